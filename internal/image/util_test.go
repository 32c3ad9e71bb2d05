package image

import (
	"encoding/json"
	"os"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func osStat(p string) (os.FileInfo, error) { return os.Stat(p) }

// block pads s with zeros to 512 bytes: a raw disk is whole sectors.
func block(s string) []byte {
	b := make([]byte, (len(s)/512+1)*512)
	copy(b, s)
	return b
}

func osWriteFile(p, s string) error { return os.WriteFile(p, []byte(s), 0o600) }
