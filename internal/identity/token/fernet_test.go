package token

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

// keysFromText builds a key set from stored key texts, primary first.
func keysFromText(t testing.TB, texts ...string) *Keys {
	t.Helper()
	k := &Keys{}
	for i, text := range texts {
		raw, err := parseKey([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		fk, err := newFernetKey(len(texts)-i, raw)
		if err != nil {
			t.Fatal(err)
		}
		k.keys = append(k.keys, fk)
	}
	return k
}

// The generate/verify vector from the Fernet spec.
const (
	specKey   = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
	specToken = "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA=="
)

var specTime = time.Date(1985, 10, 26, 1, 20, 0, 0, time.FixedZone("", -7*3600))

func TestFernetSpecVector(t *testing.T) {
	k := keysFromText(t, specKey)
	var iv [16]byte
	for i := range iv {
		iv[i] = byte(i)
	}
	got := base64.URLEncoding.EncodeToString(k.keys[0].seal([]byte("hello"), specTime, iv))
	if got != specToken {
		t.Fatalf("seal = %s\nwant   %s", got, specToken)
	}
	for _, tok := range []string{specToken, strings.TrimRight(specToken, "=")} {
		pt, ts, err := k.Decrypt(tok)
		if err != nil || string(pt) != "hello" || !ts.Equal(specTime) {
			t.Errorf("Decrypt(%s) = %q, %v, %v", tok, pt, ts, err)
		}
	}
}

func TestEncryptDecrypt(t *testing.T) {
	k := keysFromText(t, string(generateKey()), string(generateKey()))
	now := time.Unix(1700000000, 999)
	for _, n := range []int{0, 1, 15, 16, 17, 100} {
		pt := []byte(strings.Repeat("x", n))
		tok := k.Encrypt(pt, now)
		if len(tok)%4 != 0 {
			t.Errorf("Encrypt gave unpadded token %s", tok)
		}
		got, ts, err := k.Decrypt(tok)
		if err != nil || string(got) != string(pt) || ts.Unix() != now.Unix() {
			t.Errorf("round trip of %d bytes = %q, %v, %v", n, got, ts, err)
		}
	}
	// A secondary key decrypts too.
	old := keysFromText(t, string(generateKey()))
	both := &Keys{keys: append(append([]fernetKey{}, k.keys...), old.keys...)}
	if _, _, err := both.Decrypt(old.Encrypt([]byte("hi"), now)); err != nil {
		t.Errorf("secondary key: %v", err)
	}
	if _, _, err := k.Decrypt(old.Encrypt([]byte("hi"), now)); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown key: err = %v, want ErrInvalid", err)
	}
}

func TestDecryptRejectsMalformed(t *testing.T) {
	k := keysFromText(t, specKey)
	bare := strings.TrimRight(specToken, "=")
	for _, tok := range []string{
		"",
		"=",
		"gAAAA",
		bare + "=",   // wrong padding
		bare + "===", // too much padding
		specToken + "=",
		bare[:50] + "\n" + bare[50:],
		bare[:50] + "+" + bare[51:],
		bare[:len(bare)-4],
		"AAAA" + bare[4:], // version byte
		strings.Repeat("A", 200),
	} {
		if _, _, err := k.Decrypt(tok); !errors.Is(err, ErrInvalid) {
			t.Errorf("Decrypt(%q) err = %v, want ErrInvalid", tok, err)
		}
	}
}

func TestParseKey(t *testing.T) {
	good := string(generateKey())
	for _, text := range []string{good, good + "\n", " " + good + "\r\n"} {
		if _, err := parseKey([]byte(text)); err != nil {
			t.Errorf("parseKey(%q): %v", text, err)
		}
	}
	short := base64.URLEncoding.EncodeToString(make([]byte, 24))
	std := strings.NewReplacer("-", "+", "_", "/").Replace(good)
	for _, text := range []string{"", "not a key", short, strings.TrimRight(good, "="), good + good} {
		if _, err := parseKey([]byte(text)); err == nil {
			t.Errorf("parseKey(%q) accepted", text)
		}
	}
	if std != good {
		if _, err := parseKey([]byte(std)); err == nil {
			t.Errorf("parseKey accepted standard (non-urlsafe) base64 %q", std)
		}
	}
}
