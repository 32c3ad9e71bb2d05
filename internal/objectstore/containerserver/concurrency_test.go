package containerserver

import (
	"context"
	"net/http"
	"sync"
	"testing"
)

// TestConcurrentUpdates: many writers on one container and many first
// PUTs of one new container leave exact counters and one database.
func TestConcurrentUpdates(t *testing.T) {
	n := newNode(t)
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = n.c("PUT", "/AUTH_a/c", hdrTS(1)).code
		}()
	}
	wg.Wait()
	created := 0
	for _, c := range codes {
		if c == http.StatusCreated {
			created++
		} else if c != http.StatusAccepted {
			t.Fatalf("concurrent container PUT: %d", c)
		}
	}
	if created != 1 {
		t.Fatalf("%d concurrent PUTs answered 201, want exactly 1", created)
	}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				// Each writer overwrites the same names with its own time.
				r := n.c("PUT", "/AUTH_a/c/o"+itoa(i), hdrTS(10+float64(w), "X-Size", itoa(w+1), "X-Content-Type", "a/b", "X-Etag", "e"))
				if r.code != http.StatusCreated {
					t.Errorf("object PUT: %d %s", r.code, r.body)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Writer 7 has the newest timestamp on every name: 40 objects of 8 bytes.
	r := n.c("HEAD", "/AUTH_a/c", nil)
	if r.h.Get("X-Container-Object-Count") != "40" || r.h.Get("X-Container-Bytes-Used") != "320" {
		t.Fatalf("counters %s/%s, want 40/320", r.h.Get("X-Container-Object-Count"), r.h.Get("X-Container-Bytes-Used"))
	}
}

// TestGroupCommitBatchesAndForgets: every concurrent caller's row is
// committed exactly once through the group commit, and idle containers
// leave no group state behind. (How many rows share a transaction depends
// on fsync speed, so it is measured by the benchmarks, not asserted here.)
func TestGroupCommitBatchesAndForgets(t *testing.T) {
	s, ref := benchStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				errs <- s.PutObjectRecord(ctx, ref, ObjectRecord{Name: "w" + itoa(w) + "-" + itoa(i),
					CreatedAt: "0000000005.00000", Size: 2, ContentType: "a/b", ETag: "e"})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	info, err := s.ContainerInfo(ctx, ref)
	if err != nil || info.ObjectCount != 400 || info.BytesUsed != 800 {
		t.Fatalf("after 400 concurrent rows: %+v %v", info, err)
	}
	s.groupsMu.Lock()
	left := len(s.groups)
	s.groupsMu.Unlock()
	if left != 0 {
		t.Fatalf("%d idle commit groups kept", left)
	}
	// A deleted container refuses a whole batch.
	ref2 := ContainerRef{Device: "sda", Account: "AUTH_bench", Container: "gone"}
	if _, err := s.PutContainer(ctx, ref2, "0000000001.00000", 0, nil, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteContainer(ctx, ref2, "0000000002.00000"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutObjectRecord(ctx, ref2, ObjectRecord{Name: "x", CreatedAt: "0000000003.00000"}); err != ErrNotFound {
		t.Fatalf("row into deleted container: %v", err)
	}
}
