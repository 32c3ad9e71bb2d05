package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestObjectStoreCLIWalk drives kumo's Swift API with Debian's swift and
// openstack clients: a 200 MiB upload through a static large object and a
// byte-identical download, listings with a delimiter, metadata, public read
// through a container ACL without a token, a TempURL, and expiry.
func TestObjectStoreCLIWalk(t *testing.T) {
	requireCLI(t)
	swift, err := exec.LookPath("swift")
	if err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("KUMO_REQUIRE_TOOLS") == "1" {
			t.Fatal("swift (python3-swiftclient) is missing")
		}
		t.Skip("swift (python3-swiftclient) is not installed")
	}
	dir := t.TempDir()
	k := startKumo(t, dir, freeOffset(t), "--admin-password", randomPassword(t))
	admin := k.openrc()
	work := t.TempDir()
	sw := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(swift, args...)
		cmd.Dir = work
		cmd.Env = append(cleanEnv(), "HOME="+cliHome(t))
		for k, v := range admin {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("swift %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	big := filepath.Join(work, "big.bin")
	data := make([]byte, 200<<20)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, data, 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	sw("upload", "--use-slo", "-S", "50000000", "c1", "big.bin")
	t.Logf("200 MiB through SLO in %.1f s", time.Since(start).Seconds())
	got := filepath.Join(work, "got.bin")
	sw("download", "c1", "big.bin", "-o", got)
	if b, err := os.ReadFile(got); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("download differs (%d bytes, %v)", len(b), err)
	}
	if stat := sw("stat", "c1", "big.bin"); !strings.Contains(stat, "X-Static-Large-Object: True") {
		t.Fatalf("not a static large object:\n%s", stat)
	}

	for _, name := range []string{"photos/a.jpg", "photos/b.jpg", "docs/x.txt", "top.txt"} {
		p := filepath.Join(work, name)
		os.MkdirAll(filepath.Dir(p), 0o700)
		os.WriteFile(p, []byte(name), 0o600)
		sw("upload", "c2", name)
	}
	if l := sw("list", "c2", "--delimiter", "/"); l != "docs/\nphotos/\ntop.txt\n" {
		t.Fatalf("delimiter listing:\n%q", l)
	}
	if l := sw("list", "c2", "--prefix", "photos/"); l != "photos/a.jpg\nphotos/b.jpg\n" {
		t.Fatalf("prefix listing:\n%q", l)
	}
	sw("post", "-m", "color:blue", "c2", "top.txt")
	if stat := sw("stat", "c2", "top.txt"); !strings.Contains(stat, "Meta Color: blue") {
		t.Fatalf("metadata not kept:\n%s", stat)
	}
	var objs []map[string]any
	decodeJSON(t, mustOpenstack(t, admin, "object", "list", "c2", "-f", "json"), &objs)
	if len(objs) != 4 {
		t.Fatalf("openstack object list c2: %v", objs)
	}

	// Public read through the container ACL, with no token at all.
	account := strings.TrimSpace(grepLine(sw("stat"), "Account:"))
	var storage string
	for _, line := range strings.Split(sw("auth"), "\n") {
		if v, ok := strings.CutPrefix(line, "export OS_STORAGE_URL="); ok {
			storage = v
		}
	}
	if storage == "" || !strings.HasSuffix(storage, account) {
		t.Fatalf("storage URL %q for account %q", storage, account)
	}
	anon := func(url string) int {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := anon(storage + "/c2/top.txt"); code != 401 {
		t.Fatalf("anonymous read of a private container: %d", code)
	}
	sw("post", "-r", ".r:*", "c2")
	if code := anon(storage + "/c2/top.txt"); code != 200 {
		t.Fatalf("anonymous read with .r:*: %d", code)
	}

	// A TempURL signed with the account's key (HMAC-SHA256).
	sw("post", "-m", "Temp-URL-Key:s3cret")
	path := storage[strings.Index(storage, "/v1/"):] + "/c1/big.bin"
	expires := time.Now().Add(time.Hour).Unix()
	mac := hmac.New(sha256.New, []byte("s3cret"))
	fmt.Fprintf(mac, "GET\n%d\n%s", expires, path)
	signed := fmt.Sprintf("%s/c1/big.bin?temp_url_sig=%s&temp_url_expires=%d", storage, hex.EncodeToString(mac.Sum(nil)), expires)
	if code := anon(signed); code != 200 {
		t.Fatalf("TempURL GET: %d", code)
	}
	if code := anon(strings.Replace(signed, "temp_url_sig=", "temp_url_sig=00", 1)); code != 401 {
		t.Fatalf("TempURL with a bad signature: %d", code)
	}

	// Expiry: never served after X-Delete-At.
	sw("post", "-H", "X-Delete-After:2", "c2", "docs/x.txt")
	time.Sleep(3 * time.Second)
	if code := anon(storage + "/c2/docs/x.txt"); code != 404 {
		t.Fatalf("expired object served: %d", code)
	}
	k.stop()
}

func grepLine(out, prefix string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
			return v
		}
	}
	return ""
}
