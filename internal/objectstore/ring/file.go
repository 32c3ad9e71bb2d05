package ring

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// The ring file is compact binary, read by every proxy and storage node:
//
//	magic "KUMORING" | format uint16 | header length uint32 | header JSON |
//	replicas × partitions × uint16 device IDs | SHA-256 of all before it
//
// all big-endian. The header carries the part power, replica count,
// version and devices; the table is raw so a 2^20-partition ring loads
// without parsing millions of JSON numbers.
const (
	fileMagic   = "KUMORING"
	fileFormat  = 1
	maxHeader   = 64 << 20
	fixedPrefix = len(fileMagic) + 2 + 4
)

// ErrCorrupt is returned when a ring file fails its checksum or structure.
var ErrCorrupt = errors.New("ring file is corrupt")

type fileHeader struct {
	PartPower int       `json:"part_power"`
	Replicas  int       `json:"replica_count"`
	Version   int       `json:"version"`
	Devs      []*Device `json:"devs"`
}

// MarshalBinary encodes the ring in the file format above. The hash salt
// is not stored: it comes from configuration, as in Swift.
func (r *Ring) MarshalBinary() ([]byte, error) {
	hdr, err := json.Marshal(fileHeader{PartPower: r.partPower, Replicas: len(r.r2p2d), Version: r.version, Devs: r.devs})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(fixedPrefix + len(hdr) + 2*len(r.r2p2d)*r.Partitions() + sha256.Size)
	buf.WriteString(fileMagic)
	binary.Write(&buf, binary.BigEndian, uint16(fileFormat))
	binary.Write(&buf, binary.BigEndian, uint32(len(hdr)))
	buf.Write(hdr)
	for _, p2d := range r.r2p2d {
		binary.Write(&buf, binary.BigEndian, p2d)
	}
	sum := sha256.Sum256(buf.Bytes())
	buf.Write(sum[:])
	return buf.Bytes(), nil
}

// Save writes the ring file atomically and durably.
func (r *Ring) Save(path string) error {
	data, err := r.MarshalBinary()
	if err != nil {
		return err
	}
	return writeFileAtomic(path, data)
}

// LoadRing reads a ring file and salts it with hp.
func LoadRing(path string, hp HashPath) (*Ring, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load ring: %w", err)
	}
	r, err := ParseRing(data, hp)
	if err != nil {
		return nil, fmt.Errorf("load ring %s: %w", path, err)
	}
	return r, nil
}

// ParseRing decodes a ring file's bytes, rejecting any that fail the
// checksum or do not describe a complete assignment.
func ParseRing(data []byte, hp HashPath) (*Ring, error) {
	if hp.Prefix == "" && hp.Suffix == "" {
		return nil, errNoSalt
	}
	if len(data) < fixedPrefix+sha256.Size {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrCorrupt, len(data))
	}
	body, tail := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], tail) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	if string(body[:len(fileMagic)]) != fileMagic {
		return nil, fmt.Errorf("%w: not a ring file", ErrCorrupt)
	}
	if f := binary.BigEndian.Uint16(body[len(fileMagic):]); f != fileFormat {
		return nil, fmt.Errorf("unsupported ring file format %d", f)
	}
	n := binary.BigEndian.Uint32(body[len(fileMagic)+2:])
	if n > maxHeader || int(n) > len(body)-fixedPrefix {
		return nil, fmt.Errorf("%w: header length %d", ErrCorrupt, n)
	}
	var hdr fileHeader
	if err := json.Unmarshal(body[fixedPrefix:fixedPrefix+int(n)], &hdr); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	if hdr.PartPower < 0 || hdr.PartPower > MaxPartPower || hdr.Replicas < 1 || hdr.Replicas > MaxReplicas {
		return nil, fmt.Errorf("%w: part power %d, replicas %d", ErrCorrupt, hdr.PartPower, hdr.Replicas)
	}
	for i, d := range hdr.Devs {
		if d != nil && d.ID != i {
			return nil, fmt.Errorf("%w: device at %d has id %d", ErrCorrupt, i, d.ID)
		}
	}
	table := body[fixedPrefix+int(n):]
	parts := 1 << hdr.PartPower
	if len(table) != 2*parts*hdr.Replicas {
		return nil, fmt.Errorf("%w: table is %d bytes, want %d", ErrCorrupt, len(table), 2*parts*hdr.Replicas)
	}
	r2p2d := make([][]uint16, hdr.Replicas)
	for rep := range r2p2d {
		p2d := make([]uint16, parts)
		for part := range p2d {
			p2d[part] = binary.BigEndian.Uint16(table[2*(rep*parts+part):])
		}
		r2p2d[rep] = p2d
	}
	r, err := newRing(hdr.PartPower, hdr.Version, hdr.Devs, r2p2d, hp)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return r, nil
}
