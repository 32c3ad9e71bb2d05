package objserver

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
)

// Readers racing a stream of overwrites always see one whole version:
// never a 404, a 500, a torn body or a body that does not match its ETag.
func TestReadersNeverSeeHalfWrittenObjects(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	const size = 256 << 10
	expectStatus(t, n.put(objPath, fmtTS(1700000000, 1), bytes.Repeat([]byte{'a'}, size), nil), 201, "PUT v1")
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000 && !stop.Load(); i++ {
				g := n.do("GET", objPath, nil, nil)
				switch {
				case g.status != 200:
					errs <- "status " + strconvI(int64(g.status))
					return
				case len(g.body) != size || !bytes.Equal(g.body, bytes.Repeat(g.body[:1], size)):
					errs <- "torn body"
					return
				case g.header.Get("ETag") != `"`+md5hex(g.body)+`"`:
					errs <- "body does not match ETag"
					return
				}
			}
		}()
	}
	for i := 2; i <= 30; i++ {
		expectStatus(t, n.put(objPath, fmtTS(1700000000, i), bytes.Repeat([]byte{byte('a' + i%26)}, size), nil), 201, "overwrite")
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
