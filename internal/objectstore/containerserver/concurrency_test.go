package containerserver

import (
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
