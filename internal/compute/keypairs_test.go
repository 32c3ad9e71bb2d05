package compute

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

// Keys made with ssh-keygen and openssl; the fingerprints are what
// `ssh-keygen -l -E md5` and `openssl x509 -fingerprint -sha1` print.
const (
	testEd25519   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJFgAa54uRccY6IItC+bCExlrbsgyM6S5YRnRKtZHXOV alice@test"
	testEd25519FP = "84:61:dc:aa:f5:95:fb:b5:9d:7e:3c:05:fe:01:44:ab"
	testRSA       = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDILkBJIpRdAiPG0++CtLQc3r0t+6nqEZxHpfdOyzebuPFY+YLV1SwvcJEjOYIUJwywBHa1Vs1XLIwlP8v5aP74wluaBDBYYzqcIRPnePLcH4kFzmUbOVFUgolSnRCM1c/V3Z4dirwToI5BMXg+IZh43YWJ6WEbatHlJpmROnVzQQ== rsa@test"
	testRSAFP     = "f9:f3:1f:30:ee:3e:4b:4d:72:75:72:44:6c:7d:8d:11"
	testCert      = `-----BEGIN CERTIFICATE-----
MIICBDCCAW2gAwIBAgIUc9MYjqVNmZI+XcDMKv3018pZ9lowDQYJKoZIhvcNAQEL
BQAwFDESMBAGA1UEAwwJa3Vtby10ZXN0MB4XDTI2MTEyMTEyNTkzMVoXDTM2MTEx
ODEyNTkzMVowFDESMBAGA1UEAwwJa3Vtby10ZXN0MIGfMA0GCSqGSIb3DQEBAQUA
A4GNADCBiQKBgQDLgCgzx+stz0Ex95Y6Jj8kYE3R/4QQc/7oqhv7M58L7MCaAfiv
pKmAlFHF6FRwJjcDcE7vYLlATDvmOSh/iaJB53SylZVO+I7vvOLCbJ7wAWpRmpZ+
p58xTVu+FXMSHEOj6uQfWdjmceeaAsbELuDaTUshztsSOQLStZyW3IZSZwIDAQAB
o1MwUTAdBgNVHQ4EFgQU0xZgxkQ8REsY1bQUyxk/4mwxJygwHwYDVR0jBBgwFoAU
0xZgxkQ8REsY1bQUyxk/4mwxJygwDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0B
AQsFAAOBgQCPF4e6xHe9PkOFKjxFbJlpoU1TfsMzREGEXYLAjHPspIzAR7A/dYB2
9PVVnOqNXKu09vCFOBndHRkLEkfGRM65W9ZwxZfDWp2W9UVYw/LUORXCebve132M
ehyHXAMJsV3OedEIG/uPR1eGOxSwmfpVwKFVqUpfIvRVaBLkqEiorg==
-----END CERTIFICATE-----
`
	testCertFP = "61:63:cd:44:db:cf:cc:2d:a0:65:f9:20:54:92:cb:d3:49:e6:c1:9b"
)

func kp(name string, extra map[string]any) map[string]any {
	m := map[string]any{"name": name}
	for k, v := range extra {
		m[k] = v
	}
	return map[string]any{"keypair": m}
}

func TestKeypairImportFingerprints(t *testing.T) {
	tc := newTestCloud(t)
	for _, c := range []struct {
		name, key, typ, fp string
	}{
		{"ed", testEd25519, "ssh", testEd25519FP},
		{"rsa", testRSA, "ssh", testRSAFP},
		{"cert", testCert, "x509", testCertFP},
	} {
		r := tc.must(201, "POST", "/v2.1/os-keypairs", tc.alice, kp(c.name, map[string]any{"public_key": c.key, "type": c.typ}), "mv", "2.2")
		k := r.json["keypair"].(map[string]any)
		if p := keypairCreate22.check(k); p != "" || k["fingerprint"] != c.fp || k["type"] != c.typ || k["user_id"] != tc.users["alice"] ||
			k["public_key"] != c.key || k["private_key"] != nil {
			t.Fatalf("%s: %s %v", c.name, p, k)
		}
	}
	r := tc.must(200, "GET", "/v2.1/os-keypairs/ed", tc.alice, nil, "mv", "2.2")
	k := r.json["keypair"].(map[string]any)
	if p := keypairShow22.check(k); p != "" || k["deleted"] != false || k["deleted_at"] != nil || k["id"] == nil || k["fingerprint"] != testEd25519FP {
		t.Fatalf("show: %s %s", p, r.raw)
	}
	if p := keypairShow21.check(tc.must(200, "GET", "/v2.1/os-keypairs/ed", tc.alice, nil).json["keypair"]); p != "" {
		t.Fatalf("show 2.1: %s", p)
	}
	for _, bad := range []map[string]any{
		{"public_key": "ssh-rsa not-base64!"},
		{"public_key": "ssh-ed25519 " + strings.Fields(testRSA)[1]}, // type and blob disagree
		{"public_key": "garbage"},
	} {
		tc.fault(tc.req("POST", "/v2.1/os-keypairs", tc.alice, kp("bad", bad)), 400, "badRequest", "Keypair data is invalid: failed to generate fingerprint")
	}
	r = tc.req("POST", "/v2.1/os-keypairs", tc.alice, kp("badcert", map[string]any{"public_key": "nope", "type": "x509"}), "mv", "2.2")
	tc.fault(r, 400, "badRequest", "")
	if !strings.HasPrefix(str(r.json, "badRequest", "message"), "Keypair data is invalid: failed to generate X509 fingerprint. Error message: ") {
		t.Fatalf("x509 message: %s", r.raw)
	}
	tc.fault(tc.req("POST", "/v2.1/os-keypairs", tc.alice, kp("ed", map[string]any{"public_key": testEd25519})), 409, "conflictingRequest", "Key pair 'ed' already exists.")
	// Names may hold spaces; the path carries them escaped.
	tc.must(200, "POST", "/v2.1/os-keypairs", tc.alice, kp("my key", map[string]any{"public_key": testEd25519}))
	if str(tc.must(200, "GET", "/v2.1/os-keypairs/my%20key", tc.alice, nil).json, "keypair", "name") != "my key" {
		t.Fatal("show by an escaped name")
	}
	if str(tc.must(200, "GET", "/v2.1/"+tc.projA+"/os-keypairs/my%20key", tc.alice, nil).json, "keypair", "name") != "my key" {
		t.Fatal("show by an escaped name after a project id")
	}
}

func TestKeypairGenerate(t *testing.T) {
	tc := newTestCloud(t)
	// 2.1: 200, no type.
	r := tc.must(200, "POST", "/v2.1/os-keypairs", tc.alice, kp("gen", nil))
	k := r.json["keypair"].(map[string]any)
	if p := keypairCreate21.check(k); p != "" || k["private_key"] == nil {
		t.Fatalf("generate 2.1: %s %s", p, r.raw)
	}
	// The private key is a usable RSA key whose public half is the one
	// stored, and the fingerprint is that key's MD5.
	signer, err := ssh.ParsePrivateKey([]byte(k["private_key"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	pub := strings.Fields(k["public_key"].(string))
	if pub[0] != "ssh-rsa" || pub[2] != "Generated-by-Nova" || string(ssh.MarshalAuthorizedKey(signer.PublicKey())) != pub[0]+" "+pub[1]+"\n" ||
		ssh.FingerprintLegacyMD5(signer.PublicKey()) != k["fingerprint"] {
		t.Fatalf("generated key does not match: %v", k)
	}
	// x509 generation (2.2): a certificate for the user, SHA-1 fingerprint.
	r = tc.must(201, "POST", "/v2.1/os-keypairs", tc.alice, kp("genx", map[string]any{"type": "x509"}), "mv", "2.2")
	k = r.json["keypair"].(map[string]any)
	block, _ := pem.Decode([]byte(k["public_key"].(string)))
	if block == nil {
		t.Fatalf("x509 public key: %v", k)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || cert.Subject.CommonName != tc.users["alice"] {
		t.Fatalf("cert: %v %v", err, cert)
	}
	if fp, _ := x509Fingerprint(k["public_key"].(string)); fp != k["fingerprint"] || !strings.Contains(k["private_key"].(string), "PRIVATE KEY") {
		t.Fatalf("x509 fingerprint %q vs %v", fp, k["fingerprint"])
	}
	// 2.92: public_key required, "@" and "." allowed in names.
	tc.fault(tc.req("POST", "/v2.1/os-keypairs", tc.alice, kp("x", nil), "mv", "2.92"), 400, "badRequest",
		"Invalid input for field/attribute keypair. Value: {'name': 'x'}. 'public_key' is a required property")
	tc.must(201, "POST", "/v2.1/os-keypairs", tc.alice, kp("me@host.x", map[string]any{"public_key": testEd25519}), "mv", "2.92")
	tc.fault(tc.req("POST", "/v2.1/os-keypairs", tc.alice, kp("me@host", map[string]any{"public_key": testEd25519}), "mv", "2.91"), 400, "badRequest",
		"An invalid 'name' value was provided. The name must be: Only expected characters: [_- 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ]")
	tc.fault(tc.req("POST", "/v2.1/os-keypairs", tc.alice, kp("t", map[string]any{"type": "gpg"}), "mv", "2.2"), 400, "badRequest",
		"Invalid input for field/attribute type. Value: gpg. 'gpg' is not one of ['ssh', 'x509']")
	tc.fault(tc.req("POST", "/v2.1/os-keypairs", tc.alice, kp("t", map[string]any{"type": "ssh"})), 400, "badRequest",
		"Invalid input for field/attribute keypair. Value: {'name': 't', 'type': 'ssh'}. Additional properties are not allowed ('type' was unexpected)")
	tc.fault(tc.req("POST", "/v2.1/os-keypairs", tc.alice, kp("", nil)), 400, "badRequest", "Invalid input for field/attribute name. Value: . '' is too short")
}

func TestKeypairsArePerUser(t *testing.T) {
	tc := newTestCloud(t)
	tc.must(200, "POST", "/v2.1/os-keypairs", tc.alice, kp("mine", map[string]any{"public_key": testEd25519}))
	// carol is in alice's project, bob is not: neither sees alice's key.
	for _, tok := range []string{tc.carol, tc.bob} {
		tc.fault(tc.req("GET", "/v2.1/os-keypairs/mine", tok, nil), 404, "itemNotFound", "")
		if l := tc.must(200, "GET", "/v2.1/os-keypairs", tok, nil).json["keypairs"].([]any); len(l) != 0 {
			t.Fatalf("another user lists alice's keys: %v", l)
		}
		tc.fault(tc.req("DELETE", "/v2.1/os-keypairs/mine", tok, nil), 404, "itemNotFound", "")
	}
	r := tc.req("GET", "/v2.1/os-keypairs/mine", tc.bob, nil)
	tc.fault(r, 404, "itemNotFound", "Keypair mine not found for user "+tc.users["bob"])
	// The same name for another user is fine.
	tc.must(200, "POST", "/v2.1/os-keypairs", tc.bob, kp("mine", map[string]any{"public_key": testRSA}))

	// 2.10: user_id names another user; only an admin may.
	q := "?user_id=" + tc.users["alice"]
	tc.fault(tc.req("GET", "/v2.1/os-keypairs"+q, tc.bob, nil, "mv", "2.10"), 403, "forbidden",
		"Policy doesn't allow os_compute_api:os-keypairs:index to be performed.")
	tc.fault(tc.req("GET", "/v2.1/os-keypairs/mine"+q, tc.carol, nil, "mv", "2.10"), 403, "forbidden", "")
	tc.fault(tc.req("POST", "/v2.1/os-keypairs", tc.bob, kp("planted", map[string]any{"public_key": testRSA, "user_id": tc.users["alice"]}), "mv", "2.10"),
		403, "forbidden", "Policy doesn't allow os_compute_api:os-keypairs:create to be performed.")
	r = tc.must(200, "GET", "/v2.1/os-keypairs/mine"+q, tc.admin, nil, "mv", "2.10")
	if str(r.json, "keypair", "fingerprint") != testEd25519FP {
		t.Fatalf("admin show for alice: %s", r.raw)
	}
	tc.must(201, "POST", "/v2.1/os-keypairs", tc.admin, kp("given", map[string]any{"public_key": testRSA, "user_id": tc.users["alice"]}), "mv", "2.10")
	// Before 2.10 the parameter is ignored: the admin sees their own keys.
	if l := tc.must(200, "GET", "/v2.1/os-keypairs"+q, tc.admin, nil, "mv", "2.9").json["keypairs"].([]any); len(l) != 0 {
		t.Fatalf("user_id honoured before 2.10: %v", l)
	}
	r = tc.must(200, "GET", "/v2.1/os-keypairs", tc.alice, nil, "mv", "2.2")
	var names []string
	for _, it := range r.json["keypairs"].([]any) {
		k := it.(map[string]any)["keypair"]
		if p := keypairList22.check(k); p != "" {
			t.Fatalf("list item: %s", p)
		}
		names = append(names, k.(map[string]any)["name"].(string))
	}
	if !slices.Equal(names, []string{"given", "mine"}) {
		t.Fatalf("alice's keys: %v", names)
	}
	for _, it := range tc.must(200, "GET", "/v2.1/os-keypairs", tc.alice, nil).json["keypairs"].([]any) {
		if p := keypairList21.check(it.(map[string]any)["keypair"]); p != "" {
			t.Fatalf("2.1 list item: %s", p)
		}
	}
	tc.must(204, "DELETE", "/v2.1/os-keypairs/given", tc.alice, nil, "mv", "2.2")
	tc.must(202, "DELETE", "/v2.1/os-keypairs/mine", tc.alice, nil)
	tc.fault(tc.req("DELETE", "/v2.1/os-keypairs/mine", tc.alice, nil), 404, "itemNotFound", "Keypair mine not found for user "+tc.users["alice"])
}

func TestKeypairPagination(t *testing.T) {
	tc := newTestCloud(t)
	for _, n := range []string{"k5", "k1", "k4", "k2", "k3"} {
		tc.must(200, "POST", "/v2.1/os-keypairs", tc.alice, kp(n, map[string]any{"public_key": testEd25519}))
	}
	var got []string
	next := "/v2.1/os-keypairs?limit=2"
	for i := 0; i < 10 && next != ""; i++ {
		r := tc.must(200, "GET", next, tc.alice, nil, "mv", "2.35")
		for _, it := range r.json["keypairs"].([]any) {
			got = append(got, it.(map[string]any)["keypair"].(map[string]any)["name"].(string))
		}
		next = ""
		if links, ok := r.json["keypairs_links"].([]any); ok {
			href := links[0].(map[string]any)["href"].(string)
			if !strings.HasPrefix(href, tc.srv.URL+"/v2.1/os-keypairs?limit=2&marker=") {
				t.Fatalf("next link %s", href)
			}
			next = strings.TrimPrefix(href, tc.srv.URL)
		}
	}
	if !slices.Equal(got, []string{"k1", "k2", "k3", "k4", "k5"}) {
		t.Fatalf("pages: %v", got)
	}
	tc.fault(tc.req("GET", "/v2.1/os-keypairs?marker=nope", tc.alice, nil, "mv", "2.35"), 400, "badRequest", "Marker nope could not be found.")
	// Before 2.35 limit is not a parameter: all keys, no links.
	r := tc.must(200, "GET", "/v2.1/os-keypairs?limit=2", tc.alice, nil, "mv", "2.34")
	if len(r.json["keypairs"].([]any)) != 5 || r.json["keypairs_links"] != nil {
		t.Fatalf("2.34 with limit: %s", r.raw)
	}
}

// limitsOf is a LimitReader with fixed limits.
type limitsOf map[string]int64

func (l limitsOf) ProjectLimit(_ context.Context, _, service, _, resource string) (int64, bool, error) {
	n, ok := l[service+"/"+resource]
	return n, ok, nil
}

func TestKeypairQuota(t *testing.T) {
	tc := newTestCloud(t, func(c *Config) { c.Limits = limitsOf{"compute/server_key_pairs": 2} })
	tc.must(200, "POST", "/v2.1/os-keypairs", tc.alice, kp("a", map[string]any{"public_key": testEd25519}))
	tc.must(200, "POST", "/v2.1/os-keypairs", tc.alice, kp("b", map[string]any{"public_key": testEd25519}))
	tc.fault(tc.req("POST", "/v2.1/os-keypairs", tc.alice, kp("c", map[string]any{"public_key": testEd25519})), 403, "forbidden", "Quota exceeded, too many key pairs.")
	// Per user: carol in the same project still has room.
	tc.must(200, "POST", "/v2.1/os-keypairs", tc.carol, kp("c", map[string]any{"public_key": testEd25519}))
}

// Key pairs read their limit as every other quota: with limits configured
// but server_key_pairs not registered the limit is 0 (oslo.limit), not
// Nova's legacy default of 100; -1 is unlimited.
func TestKeypairQuotaUnregisteredIsZero(t *testing.T) {
	tc := newTestCloud(t, func(c *Config) { c.Limits = limitsOf{"compute/servers": 10} })
	tc.fault(tc.req("POST", "/v2.1/os-keypairs", tc.alice, kp("a", map[string]any{"public_key": testEd25519})), 403, "forbidden", "Quota exceeded, too many key pairs.")
	tc2 := newTestCloud(t, func(c *Config) { c.Limits = limitsOf{"compute/server_key_pairs": -1} })
	for i := range 3 {
		tc2.must(200, "POST", "/v2.1/os-keypairs", tc2.alice, kp(fmt.Sprintf("k%d", i), map[string]any{"public_key": testEd25519}))
	}
}

// Concurrent creates cannot pass the quota together: the count and the
// insert are one transaction.
func TestKeypairQuotaConcurrent(t *testing.T) {
	tc := newTestCloud(t, func(c *Config) { c.Limits = limitsOf{"compute/server_key_pairs": 3} })
	statuses := make(chan int, 10)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		raw, _ := json.Marshal(kp(fmt.Sprintf("k%d", i), map[string]any{"public_key": testEd25519}))
		req, _ := http.NewRequest("POST", tc.srv.URL+"/v2.1/os-keypairs", bytes.NewReader(raw))
		req.Header.Set("X-Auth-Token", tc.alice)
		go func() {
			defer wg.Done()
			// No t.Fatal off the test goroutine: a failure is status 0.
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[200] != 3 || count[403] != 7 {
		t.Fatalf("statuses %v, want 3 created and 7 refused", count)
	}
}
