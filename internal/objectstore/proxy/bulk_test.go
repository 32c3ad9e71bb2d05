package proxy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"strings"
	"testing"
)

func makeTar(t *testing.T, gz bool, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	var tw *tar.Writer
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		tw = tar.NewWriter(zw)
	} else {
		tw = tar.NewWriter(&buf)
	}
	for name, body := range files {
		if strings.HasSuffix(name, "/") {
			_ = tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755})
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Size: int64(len(body)), Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		_ = zw.Close()
	}
	return buf.Bytes()
}

// TestBulk: extract-archive creates containers and objects from a tar
// (plain or gzip, at the account or under a container), and bulk-delete
// removes a list of objects and containers, reporting each.
func TestBulk(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	arch := makeTar(t, false, map[string]string{"c1/": "", "c1/x.txt": "xx", "c1/d/y": "yyy", "c2/z": "z", "toplevel": "t"})
	r := c.must(200, "PUT", a+"?extract-archive=tar", c.alice, arch, "Accept", "application/json")
	var rep map[string]any
	if err := json.Unmarshal(r.body, &rep); err != nil {
		t.Fatalf("report %s", r.body)
	}
	if rep["Number Files Created"].(float64) != 3 || len(rep["Errors"].([]any)) != 1 || rep["Response Status"] != "400 Bad Request" {
		t.Fatalf("extract report %s", r.body)
	}
	if got := c.must(200, "GET", a+"/c1/d/y", c.alice, nil).body; string(got) != "yyy" {
		t.Fatalf("extracted %q", got)
	}
	if ct := c.must(200, "HEAD", a+"/c1/x.txt", c.alice, nil).header.Get("Content-Type"); ct != "text/plain" {
		t.Errorf("extracted Content-Type %q", ct)
	}
	// Under a container and prefix, gzip.
	c.must(200, "PUT", a+"/c3/pre?extract-archive=tar.gz", c.alice, makeTar(t, true, map[string]string{"a": "1", "b/c": "2"}))
	if got := strings.TrimSpace(string(c.must(200, "GET", a+"/c3", c.alice, nil).body)); got != "pre/a\npre/b/c" {
		t.Fatalf("container-level extract listing %q", got)
	}
	c.must(403, "PUT", a+"?extract-archive=tar", c.bob, arch)
	c.must(401, "DELETE", a+"?bulk-delete", "", []byte("c1/x.txt"))

	r = c.must(200, "DELETE", a+"?bulk-delete", c.alice, []byte("c1/x.txt\nc1/d/y\nc1\n/c2/z\nc2\nc1/missing\nc3\n"), "Accept", "application/json")
	rep = nil
	if err := json.Unmarshal(r.body, &rep); err != nil {
		t.Fatalf("report %s", r.body)
	}
	if rep["Number Deleted"].(float64) != 5 || rep["Number Not Found"].(float64) != 1 || len(rep["Errors"].([]any)) != 1 {
		t.Fatalf("bulk delete report %s", r.body)
	}
	c.must(404, "HEAD", a+"/c1", c.alice, nil)
	c.must(404, "HEAD", a+"/c2", c.alice, nil)
	c.must(204, "HEAD", a+"/c3", c.alice, nil) // not empty: 409 in Errors
	r = c.must(200, "POST", a+"?bulk-delete", c.alice, []byte("c3/pre/a\nc3/pre/b/c\nc3"))
	if !strings.Contains(string(r.body), "Number Deleted: 3") || !strings.Contains(string(r.body), "Response Status: 200 OK") {
		t.Fatalf("plain report %q", r.body)
	}
}
