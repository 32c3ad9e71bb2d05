package node

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kumo/internal/objectstore/objserver"
	"kumo/internal/objectstore/ring"
)

// The node runs the object auditor every AuditInterval: a replica whose
// body was changed on disk ends up in quarantined/ without any request.
func TestNodeRunsAuditor(t *testing.T) {
	lo := listen(t)
	root := t.TempDir()
	hp := ring.HashPath{Prefix: "p", Suffix: "s"}
	n, err := Start(Config{Root: root, Devices: []string{"sda"}, HashPath: hp, Object: lo,
		Interval: time.Hour, AuditInterval: 50 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if r := do(t, "PUT", "http://"+lo.Addr().String()+"/sda/3/AUTH_a/c/o", []byte("the original body"),
		"X-Timestamp", "1700000001.00000", "Content-Type", "text/plain"); r.StatusCode != 201 {
		t.Fatalf("PUT %d", r.StatusCode)
	}
	hash := objserver.HashPath(hp).ObjectHash("AUTH_a", "c", "o")
	data := filepath.Join(root, "sda", "objects", "3", hash, "1700000001.00000.data")
	f, err := os.OpenFile(data, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("X"), 2)
	f.Close()
	q := filepath.Join(root, "sda", "quarantined", "objects", hash)
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(q); err == nil {
			return
		}
	}
	t.Fatal("the auditor did not quarantine the corrupt replica within 10 s")
}
