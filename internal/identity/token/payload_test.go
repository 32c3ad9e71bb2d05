package token

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	userID    = "8d1b6e2fd7a84c3c9a4b7c6e5d4f3a21"
	projectID = "0c4e939acacf4376bdcd1129f1a054ad"
)

var (
	issued  = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)
	expires = issued.Add(time.Hour)
)

func samplePayload() Payload {
	return Payload{
		Methods:   []string{"password"},
		UserID:    userID,
		ProjectID: projectID,
		IssuedAt:  issued,
		ExpiresAt: expires,
		AuditIDs:  []string{"VcxU2JYqT8OzfUVvrjEITQ"},
	}
}

func testKeys(t testing.TB) *Keys {
	return keysFromText(t, string(generateKey()), string(generateKey()))
}

// samePayload compares payloads, times by Equal.
func samePayload(a, b Payload) bool {
	if !a.IssuedAt.Equal(b.IssuedAt) || !a.ExpiresAt.Equal(b.ExpiresAt) {
		return false
	}
	a.IssuedAt, a.ExpiresAt, b.IssuedAt, b.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

func TestPayloadRoundTrip(t *testing.T) {
	k := testKeys(t)
	ids := map[string]string{
		"uuid":    "6a4c8a0e5c9d4b7e8f1a2b3c4d5e6f70",
		"default": "default",
		"hex64":   strings.Repeat("ab12", 16),
		"UPPER":   "6A4C8A0E5C9D4B7E8F1A2B3C4D5E6F70",
		"dashed":  "6a4c8a0e-5c9d-4b7e-8f1a-2b3c4d5e6f70",
		"long":    strings.Repeat("é", 127) + "x", // 255 bytes
		"binary":  "\x00\xff\n=",
	}
	audits := map[string][]string{
		"one":      {NewAuditID()},
		"chain":    {NewAuditID(), NewAuditID()},
		"odd":      {"not-base64!", strings.Repeat("A", 21) + "B"}, // the 2nd has non-zero trailing bits
		"empty":    {""},
		"with-eol": {"AAAAAAAAAAAAAAAAAAAA\nA"},
	}
	scopes := []struct {
		name string
		set  func(*Payload, string)
	}{
		{"unscoped", func(*Payload, string) {}},
		{"project", func(p *Payload, id string) { p.ProjectID = id }},
		{"domain", func(p *Payload, id string) { p.DomainID = id }},
		{"system", func(p *Payload, _ string) { p.System = "all" }},
	}
	methodSets := [][]string{
		{"password"},
		{"token"},
		{"application_credential"},
		{"oauth1"},
		{"password", "totp"},
		{"mapped"},
		{"external"},
		AuthMethods[:],
	}
	n := 0
	for idName, id := range ids {
		for _, scope := range scopes {
			for extras := range 8 {
				for auditName, auditIDs := range audits {
					p := Payload{
						Methods:   methodSets[n%len(methodSets)],
						UserID:    id,
						IssuedAt:  issued,
						ExpiresAt: expires,
						AuditIDs:  auditIDs,
					}
					n++
					scope.set(&p, id)
					if extras&1 != 0 {
						p.TrustID = id
					}
					if extras&2 != 0 {
						p.AppCredID = "3f1e" + id
					}
					if extras&4 != 0 {
						p.AccessTokenID = projectID
					}
					name := fmt.Sprintf("%s/%s/extras=%03b/audit=%s", idName, scope.name, extras, auditName)
					t.Run(name, func(t *testing.T) {
						b, err := encodePayload(p)
						if err != nil {
							if idName == "long" && extras&2 != 0 {
								return // "3f1e"+id is over 255 bytes: checked below
							}
							t.Fatal(err)
						}
						got, err := decodePayload(b)
						if err != nil {
							t.Fatalf("decode: %v", err)
						}
						if !samePayload(got, p) {
							t.Fatalf("decode = %+v\nwant     %+v", got, p)
						}
						tok, err := k.Seal(p)
						if err != nil {
							t.Fatal(err)
						}
						got, err = k.Open(tok)
						if err != nil {
							t.Fatal(err)
						}
						if !samePayload(got, p) {
							t.Fatalf("Open = %+v\nwant   %+v", got, p)
						}
					})
				}
			}
		}
	}
}

func TestPayloadTimes(t *testing.T) {
	k := testKeys(t)
	for _, tc := range []struct{ issued, expires time.Time }{
		{time.Time{}, time.Time{}},
		{issued, issued},
		{issued, issued.Add(-time.Minute)},
		{issued, time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)},
		{time.Date(1969, 12, 31, 23, 59, 59, 1500, time.UTC), issued},
		{issued.In(time.FixedZone("JST", 9*3600)), expires},
	} {
		p := samplePayload()
		p.IssuedAt, p.ExpiresAt = tc.issued, tc.expires
		tok, err := k.Seal(p)
		if err != nil {
			t.Fatalf("Seal(%v, %v): %v", tc.issued, tc.expires, err)
		}
		got, err := k.Open(tok)
		if err != nil {
			t.Fatal(err)
		}
		// Microsecond precision: finer digits are truncated.
		if !got.IssuedAt.Equal(tc.issued.Truncate(time.Microsecond)) ||
			!got.ExpiresAt.Equal(tc.expires.Truncate(time.Microsecond)) {
			t.Errorf("times %v, %v came back as %v, %v", tc.issued, tc.expires, got.IssuedAt, got.ExpiresAt)
		}
		if got.IssuedAt.Location() != time.UTC {
			t.Errorf("IssuedAt in %v, want UTC", got.IssuedAt.Location())
		}
	}
	// The Fernet timestamp is the issue time.
	tok, _ := k.Seal(samplePayload())
	if _, ts, _ := k.Decrypt(tok); ts.Unix() != issued.Unix() {
		t.Errorf("fernet timestamp = %v, want %v", ts, issued)
	}
}

func TestSealRejects(t *testing.T) {
	k := testKeys(t)
	for name, edit := range map[string]func(*Payload){
		"unknown method":     func(p *Payload) { p.Methods = []string{"password", "kerberos"} },
		"duplicate method":   func(p *Payload) { p.Methods = []string{"token", "token"} },
		"no method":          func(p *Payload) { p.Methods = nil },
		"project and domain": func(p *Payload) { p.DomainID = "default" },
		"project and system": func(p *Payload) { p.System = "all" },
		"bad system":         func(p *Payload) { p.ProjectID = ""; p.System = "some" },
		"no audit id":        func(p *Payload) { p.AuditIDs = nil },
		"three audit ids":    func(p *Payload) { p.AuditIDs = []string{"a", "b", "c"} },
		"long id":            func(p *Payload) { p.TrustID = strings.Repeat("x", 256) },
		"long audit id":      func(p *Payload) { p.AuditIDs[0] = strings.Repeat("x", 256) },
		"year 10000":         func(p *Payload) { p.ExpiresAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"year 0":             func(p *Payload) { p.IssuedAt = time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC) },
	} {
		p := samplePayload()
		edit(&p)
		if tok, err := k.Seal(p); err == nil {
			t.Errorf("%s: Seal accepted, token %s", name, tok)
		}
	}
}

func TestMethodsComeBackInCanonicalOrder(t *testing.T) {
	k := testKeys(t)
	p := samplePayload()
	p.Methods = []string{"totp", "password"}
	tok, _ := k.Seal(p)
	got, err := k.Open(tok)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Methods, []string{"password", "totp"}) {
		t.Errorf("methods = %v", got.Methods)
	}
}

func TestTokenLength(t *testing.T) {
	k := testKeys(t)
	p := samplePayload()
	b, _ := encodePayload(p)
	tok := mustSeal(t, k, p)
	t.Logf("project-scoped: payload %d bytes, token %d characters", len(b), len(tok))
	if len(tok) >= 255 {
		t.Errorf("project-scoped token is %d characters, want < 255", len(tok))
	}

	// Rescoped, with a trust and a named domain's project: still short.
	p.AuditIDs = append(p.AuditIDs, NewAuditID())
	p.Methods = []string{"password", "token", "totp"}
	p.TrustID = "3b9a6e0f2c7d4e8a9b1c2d3e4f5a6b7c"
	b, _ = encodePayload(p)
	tok = mustSeal(t, k, p)
	t.Logf("rescoped trust token: payload %d bytes, token %d characters", len(b), len(tok))
	if len(tok) >= 255 {
		t.Errorf("rescoped trust token is %d characters, want < 255", len(tok))
	}
	// Domain "default" scope, application credential.
	p = samplePayload()
	p.ProjectID, p.DomainID = "", "default"
	p.Methods = []string{"application_credential"}
	p.AppCredID = "9c6a1f0e3b2d4c5e8f7a6b5c4d3e2f10"
	tok = mustSeal(t, k, p)
	if len(tok) >= 255 {
		t.Errorf("application credential token is %d characters, want < 255", len(tok))
	}
	if strings.ContainsAny(tok, "=+/") {
		t.Errorf("token %s is not unpadded urlsafe base64", tok)
	}
}

func TestTamperedTokensAreInvalid(t *testing.T) {
	k := testKeys(t)
	tok, err := k.Seal(samplePayload())
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	// Every character replaced by every other, including those differing
	// only in the last character's unused bits.
	for i := range len(tok) {
		for _, c := range alphabet + "=.+/ \n" {
			if byte(c) == tok[i] {
				continue
			}
			bad := tok[:i] + string(c) + tok[i+1:]
			if _, err := k.Open(bad); !errors.Is(err, ErrInvalid) {
				t.Fatalf("token with character %d set to %q: err = %v", i, c, err)
			}
		}
	}
	// Every bit of the binary token.
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	for i := range raw {
		for bit := range 8 {
			bad := append([]byte(nil), raw...)
			bad[i] ^= 1 << bit
			if _, err := k.Open(base64.RawURLEncoding.EncodeToString(bad)); !errors.Is(err, ErrInvalid) {
				t.Fatalf("token with byte %d bit %d flipped: err = %v", i, bit, err)
			}
		}
	}
	// Truncated and extended tokens.
	for i := range len(tok) {
		if _, err := k.Open(tok[:i]); !errors.Is(err, ErrInvalid) {
			t.Fatalf("token cut to %d characters: err = %v", i, err)
		}
	}
	for _, suffix := range []string{"A", "AA", "AAAA", "===", "\n"} {
		if _, err := k.Open(tok + suffix); !errors.Is(err, ErrInvalid) {
			t.Errorf("token + %q: err = %v", suffix, err)
		}
	}
	// The padded form of the same token is accepted (the Fernet spec's form).
	if _, err := k.Open(tok + strings.Repeat("=", (4-len(tok)%4)%4)); err != nil {
		t.Errorf("padded token: %v", err)
	}
	// Too long to look at.
	if _, err := k.Open(strings.Repeat("A", maxTokenLen+1)); !errors.Is(err, ErrInvalid) {
		t.Errorf("huge token: err = %v", err)
	}
}

func TestOpenRejectsValidlySignedBadPayloads(t *testing.T) {
	k := testKeys(t)
	good, _ := encodePayload(samplePayload())
	for name, plaintext := range map[string][]byte{
		"empty":          {},
		"version 2":      append([]byte{2}, good[1:]...),
		"version 0":      append([]byte{0}, good[1:]...),
		"trailing byte":  append(append([]byte{}, good...), 0),
		"truncated":      good[:len(good)-1],
		"unknown method": append([]byte{1, 0x80}, good[2:]...),
		"msgpack":        {0x93, 0x01, 0x02, 0x03},
	} {
		_, err := k.Open(k.Encrypt(plaintext, issued))
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	_, err := k.Open(k.Encrypt(append([]byte{7}, good[1:]...), issued))
	if err == nil || !strings.Contains(err.Error(), "version 7") {
		t.Errorf("unknown version error = %v, want it to name the version", err)
	}
}

func TestDecodeRejectsNonCanonical(t *testing.T) {
	p := samplePayload()
	p.DomainID, p.ProjectID = "default", ""
	good, _ := encodePayload(p)
	// 1 version, 1 methods, 1 flags, 17 user, then domain (1 form, 1 length, "default").
	hexAsString := append([]byte{1, 1, flagUser, formString, 32}, userID...)
	hexAsString = append(hexAsString, good[2+1+17+9:]...)
	// The expiry delta as a non-minimal varint: the same value, one byte
	// longer. It follows version, methods, flags, user, domain and issued.
	at := 3 + 17 + 9 + 8
	n := len(binary.AppendVarint(nil, expires.Sub(issued).Microseconds()))
	longVarint := append([]byte{}, good[:at+n]...)
	longVarint[at+n-1] |= 0x80
	longVarint = append(append(longVarint, 0), good[at+n:]...)
	for name, b := range map[string][]byte{
		"non-minimal varint": longVarint,
		"uuid hex as string": hexAsString,
		"empty string id":    append([]byte{1, 1, flagUser, formString, 0}, good[2+1+17+9:]...),
		"two scopes":         append([]byte{1, 1, good[2] | flagSystemAll}, good[3:]...),
		"bad id form":        append([]byte{1, 1, flagUser, 2}, good[4:]...),
	} {
		_, err := decodePayload(b)
		if err == nil {
			t.Errorf("%s: decoded", name)
		}
		t.Logf("%s: %v", name, err)
	}
	if _, err := decodePayload(good); err != nil {
		t.Fatal(err)
	}
}

func TestNewAuditID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		a := NewAuditID()
		if len(a) != 22 || strings.ContainsAny(a, "=+/") {
			t.Fatalf("audit id %q", a)
		}
		if _, ok := packedAuditID(a); !ok {
			t.Fatalf("audit id %q does not pack", a)
		}
		if seen[a] {
			t.Fatalf("audit id %q repeated", a)
		}
		seen[a] = true
	}
}

// fuzzKeys are fixed so that the seed corpus stays valid across runs.
var fuzzKeys = []string{specKey, "dGhpcyBpcyBub3QgYSByYW5kb20ga2V5ISEhISEhISE="}

func FuzzOpen(f *testing.F) {
	k := keysFromText(f, fuzzKeys...)
	for _, p := range []Payload{samplePayload(), {
		Methods: []string{"token", "mapped"}, UserID: "some user", DomainID: "default",
		TrustID: userID, AuditIDs: []string{NewAuditID(), "x"},
	}} {
		tok, err := k.Seal(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
	}
	f.Add(specToken)
	f.Add("")
	f.Add("gAAAAA==")
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := k.Open(tok)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Open error %v is not ErrInvalid", err)
			}
			return
		}
		if _, err := encodePayload(p); err != nil {
			t.Fatalf("opened payload does not encode: %v", err)
		}
	})
}

func FuzzPayloadDecode(f *testing.F) {
	for _, p := range []Payload{samplePayload(), {
		Methods: AuthMethods[:], UserID: "u", System: "all", AppCredID: strings.Repeat("z", 255),
		AccessTokenID: projectID, IssuedAt: issued, ExpiresAt: issued.Add(-time.Hour),
		AuditIDs: []string{"", NewAuditID()},
	}} {
		b, err := encodePayload(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePayload(b)
		if err != nil {
			return
		}
		// Every payload has one encoding: what decodes re-encodes to the
		// same bytes.
		again, err := encodePayload(p)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", p, err)
		}
		if string(again) != string(b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, again)
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	k := testKeys(b)
	p := samplePayload()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Seal(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	k := testKeys(b)
	tok, err := k.Seal(samplePayload())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Open(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenSecondary opens a token of the last of three keys: the cost
// of trying every key.
func BenchmarkOpenSecondary(b *testing.B) {
	k := keysFromText(b, string(generateKey()), string(generateKey()), string(generateKey()))
	old := &Keys{keys: k.keys[2:]}
	tok, err := old.Seal(samplePayload())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Open(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// mustSeal seals p or fails the test, so a length check never passes on an
// empty token.
func mustSeal(t *testing.T, k *Keys, p Payload) string {
	t.Helper()
	tok, err := k.Seal(p)
	if err != nil || tok == "" {
		t.Fatalf("seal: %q %v", tok, err)
	}
	return tok
}
