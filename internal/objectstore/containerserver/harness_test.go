package containerserver

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// node is one storage node under test: a device directory, a Store, and
// real account and container servers on loopback.
type node struct {
	t        *testing.T
	root     string
	store    *Store
	acct     *httptest.Server
	cont     *httptest.Server
	updater  *Updater
	accounts *fixedAccounts
}

// fixedAccounts is an AccountLocator that sends every account to the given
// nodes on partition 0, as a one-partition account ring would.
type fixedAccounts struct{ nodes []Node }

func (f *fixedAccounts) AccountNodes(string) (int, []Node, error) { return 0, f.nodes, nil }

var testHash = HashPath{Prefix: "kumo-test-prefix", Suffix: "kumo-test-suffix"}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newNode(t *testing.T) *node {
	t.Helper()
	return newNodeAt(t, t.TempDir())
}

func newNodeAt(t *testing.T, root string) *node {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(root, "sda"), 0o755); err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, root: root, store: NewStore(root, testHash, 16)}
	n.acct = httptest.NewServer(NewAccountServer(n.store, quietLog()))
	n.accounts = &fixedAccounts{nodes: []Node{{Addr: strings.TrimPrefix(n.acct.URL, "http://"), Device: "sda"}}}
	n.updater = NewUpdater(n.store, n.accounts, nil, quietLog())
	n.cont = httptest.NewServer(NewContainerServer(n.store, n.updater, quietLog()))
	t.Cleanup(n.close)
	return n
}

func (n *node) close() {
	n.cont.Close()
	n.acct.Close()
	n.store.Close()
}

type resp struct {
	code int
	h    http.Header
	body string
}

func (n *node) do(base, method, path string, hdr map[string]string) resp {
	n.t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		n.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		n.t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		n.t.Fatal(err)
	}
	return resp{code: r.StatusCode, h: r.Header, body: string(b)}
}

// c calls the container server, a the account server; paths are relative
// to /sda/0.
func (n *node) c(method, path string, hdr map[string]string) resp {
	return n.do(n.cont.URL, method, "/sda/0"+path, hdr)
}

func (n *node) a(method, path string, hdr map[string]string) resp {
	return n.do(n.acct.URL, method, "/sda/0"+path, hdr)
}

func ts(sec float64) string { return string(TimestampFromTime(time.UnixMicro(int64(sec * 1e6)))) }

func hdrTS(sec float64, kv ...string) map[string]string {
	m := map[string]string{"X-Timestamp": ts(sec)}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// putObj records an object row as an object server would.
func (n *node) putObj(path string, sec float64, size int, etag string) {
	n.t.Helper()
	r := n.c("PUT", path, hdrTS(sec, "X-Size", itoa(size), "X-Content-Type", "application/octet-stream", "X-Etag", etag))
	if r.code != http.StatusCreated {
		n.t.Fatalf("PUT %s: %d %s", path, r.code, r.body)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func expect(t *testing.T, r resp, code int, what string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: status %d, want %d (body %q)", what, r.code, code, r.body)
	}
}

func unixSec(sec float64) time.Time { return time.UnixMicro(int64(sec * 1e6)) }
