package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A cloud-init boot of Debian 12 under TCG takes 100 s or more of guest
// time on a loaded 2-core machine (guest/README.md); allow several times
// that before calling it hung.
const cloudBootTimeout = 12 * time.Minute

// TestCloudImageBoots boots a real cloud-init cloud image (make
// cloud-image: Debian 12 from Debian packages) on kumo the way a user
// would: upload it, boot it with a key and #cloud-config user data, and
// read the console until cloud-init says it finished from kumo's config
// drive, with the server's name as hostname, the key installed and the
// runcmd run. A by-hand test: KUMO_E2E_CLOUD_IMAGE=<qcow2> turns it on.
func TestCloudImageBoots(t *testing.T) {
	image := os.Getenv("KUMO_E2E_CLOUD_IMAGE")
	if image == "" {
		t.Skip("by-hand test: set KUMO_E2E_CLOUD_IMAGE to a cloud-init qcow2 (make cloud-image writes build/guest/debian-cloud.qcow2)")
	}
	if _, err := os.Stat(image); err != nil {
		t.Fatalf("KUMO_E2E_CLOUD_IMAGE: %v", err)
	}
	requireCLI(t)
	dir := t.TempDir()
	k := startKumo(t, dir, freeOffset(t), "--admin-password", randomPassword(t))
	t.Cleanup(func() { killGuestsUnder(t, dir) })
	admin := k.openrc()
	work := t.TempDir()

	mustOpenstack(t, admin, "image", "create", "--disk-format", "qcow2", "--container-format", "bare",
		"--file", image, "--property", "os_distro=debian", "--property", "os_type=linux", "debian-12-cloud")
	// The image boots in 256 MiB (guest/README.md); 512 MiB leaves
	// systemd and cloud-init (Python) room. The disk is above the image's
	// 806 MiB virtual size, so growpart has something to grow.
	mustOpenstack(t, admin, "flavor", "create", "--ram", "512", "--disk", "2", "--vcpus", "1", "c1.cloud")

	pubKey := ed25519PublicKey(t)
	pub := filepath.Join(work, "k.pub")
	if err := os.WriteFile(pub, []byte(pubKey+" e2e@kumo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustOpenstack(t, admin, "keypair", "create", "--public-key", pub, "k")
	// The marker's values exist only at run time in the guest, so seeing
	// them can only mean runcmd ran; cloud-init query reads the instance
	// id from the datasource (kumo's config drive).
	userData := filepath.Join(work, "user-data")
	if err := os.WriteFile(userData, []byte(`#cloud-config
runcmd:
  - [ sh, -c, 'echo "KUMO-CLOUD-RUNCMD host=$(hostname) id=$(cloud-init query v1.instance_id)" >/dev/ttyS0' ]
`), 0o600); err != nil {
		t.Fatal(err)
	}

	const name = "debvm1"
	start := time.Now()
	// Debian's client prints "Error creating server" and exits 0 when the
	// server goes to ERROR: what counts is the server's state.
	mustOpenstack(t, admin, "server", "create", "--image", "debian-12-cloud", "--flavor", "c1.cloud",
		"--nic", "none", "--key-name", "k", "--user-data", userData, name, "--wait")
	var server map[string]any
	decodeJSON(t, mustOpenstack(t, admin, "server", "show", name, "-f", "json"), &server)
	id := str(server, "id")
	if str(server, "status") != "ACTIVE" || id == "" {
		t.Fatalf("%s after --wait: %v", name, server)
	}
	t.Logf("%s ACTIVE after %.1f s", name, time.Since(start).Seconds())

	fingerprint := keyFingerprintHex(t, pubKey)
	checks := []struct {
		what string
		re   *regexp.Regexp
	}{
		{"hostname from the config drive", regexp.MustCompile(`(?m)^` + name + ` login:`)},
		{"key installed", regexp.MustCompile(`Authorized keys from /home/debian/\.ssh/authorized_keys for user debian[\s\S]*` +
			`\| ssh-ed25519 \| ` + fingerprint + ` \|\s+-\s+\| e2e@kumo \|`)},
		{"runcmd marker", regexp.MustCompile(`KUMO-CLOUD-RUNCMD host=` + name + ` id=` + id + `\b`)},
		{"cloud-init finished", regexp.MustCompile(`Cloud-init v\. (\S+) finished at [^\n]*Datasource DataSourceConfigDrive`)},
	}
	seen := make(map[string]time.Duration)
	deadline := start.Add(cloudBootTimeout)
	for {
		log := consoleLog(t, admin, name)
		for _, c := range checks {
			if _, ok := seen[c.what]; !ok && c.re.MatchString(log) {
				seen[c.what] = time.Since(start)
				t.Logf("%s: console shows %s after %.1f s", name, c.what, seen[c.what].Seconds())
			}
		}
		if len(seen) == len(checks) {
			m := checks[len(checks)-1].re.FindStringSubmatch(log)
			t.Logf("%s: cloud-init %s finished from the config drive", name, m[1])
			break
		}
		if time.Now().After(deadline) {
			var missing []string
			for _, c := range checks {
				if _, ok := seen[c.what]; !ok {
					missing = append(missing, c.what)
				}
			}
			t.Fatalf("console of %s lacks %s after %s:\n%s", name, strings.Join(missing, ", "), cloudBootTimeout, log)
		}
		time.Sleep(5 * time.Second)
	}

	mustOpenstack(t, admin, "server", "delete", "--wait", name)
	if pids := guestPids(dir); len(pids) > 0 {
		t.Fatalf("QEMU processes left after delete: %v", pids)
	}
	k.stop()
}

// keyFingerprintHex is an OpenSSH public key's SHA-256 fingerprint in the
// colon-separated hex form cloud-init's ci-info table prints.
func keyFingerprintHex(t *testing.T, authorizedKey string) string {
	t.Helper()
	f := strings.Fields(authorizedKey)
	if len(f) < 2 {
		t.Fatalf("not an authorized_keys line: %q", authorizedKey)
	}
	blob, err := base64.StdEncoding.DecodeString(f[1])
	if err != nil {
		t.Fatalf("key %q: %v", authorizedKey, err)
	}
	sum := sha256.Sum256(blob)
	hex := make([]string, len(sum))
	for i, b := range sum {
		hex[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(hex, ":")
}
