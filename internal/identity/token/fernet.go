// Package token implements Keystone-compatible Fernet keys and kumo's token
// payloads.
//
// A token is a Fernet token (https://github.com/fernet/spec) whose plaintext
// is kumo's compact, versioned binary Payload. Keys live in a directory laid
// out as Keystone's keystone-manage fernet_setup and fernet_rotate leave it,
// so an operator's key-distribution tooling works unchanged.
package token

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrInvalid is returned for any token that cannot be decrypted or decoded:
// bad encoding, a forged or tampered token, a key that is no longer in the
// repository, or a payload this version of kumo does not understand.
var ErrInvalid = errors.New("invalid token")

const (
	fernetVersion = 0x80
	keySize       = 32 // 16 bytes signing key, then 16 bytes encryption key
	// headerSize is version, timestamp and IV; overhead adds the HMAC.
	headerSize = 1 + 8 + aes.BlockSize
	overhead   = headerSize + sha256.Size
)

// fernetKey is one parsed key. The AES block is expanded once at load time;
// a cipher.Block from crypto/aes holds no per-call state, so it is safe for
// concurrent use.
type fernetKey struct {
	index   int
	signing []byte
	block   cipher.Block
}

func newFernetKey(index int, raw []byte) (fernetKey, error) {
	if len(raw) != keySize {
		return fernetKey{}, errors.New("key is not 32 bytes")
	}
	block, err := aes.NewCipher(raw[16:])
	if err != nil {
		return fernetKey{}, err
	}
	return fernetKey{index: index, signing: bytes.Clone(raw[:16]), block: block}, nil
}

// parseKey decodes a key as Keystone and Python's cryptography store it:
// urlsafe base64 with padding (44 characters). Surrounding whitespace is
// tolerated, since hand-written key files often end in a newline.
func parseKey(text []byte) ([]byte, error) {
	s := strings.TrimSpace(string(text))
	raw, err := base64.URLEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("not urlsafe base64")
	}
	if len(raw) != keySize {
		return nil, fmt.Errorf("decodes to %d bytes, want 32", len(raw))
	}
	return raw, nil
}

// generateKey returns a new random key in its stored text form.
func generateKey() []byte {
	raw := make([]byte, keySize)
	rand.Read(raw) // never fails (crypto/rand aborts the process instead)
	out := make([]byte, base64.URLEncoding.EncodedLen(keySize))
	base64.URLEncoding.Encode(out, raw)
	return out
}

// Keys is a loaded, immutable set of Fernet keys: the primary key, which
// encrypts, and the secondary and staged keys, which only decrypt. It is safe
// for concurrent use. Get one from Load or a Repository; the zero Keys holds
// no key and is not usable.
type Keys struct {
	keys []fernetKey // primary first, then by descending index
}

// Encrypt returns a Fernet token of plaintext, encrypted and signed with the
// primary key and stamped with now (whole seconds). The token is standard
// base64url with padding, as the Fernet spec and Python's cryptography
// produce it.
func (k *Keys) Encrypt(plaintext []byte, now time.Time) string {
	var iv [aes.BlockSize]byte
	rand.Read(iv[:])
	raw := k.keys[0].seal(plaintext, now, iv)
	return base64.URLEncoding.EncodeToString(raw)
}

// seal builds the binary token: version, timestamp, IV, AES-128-CBC
// ciphertext with PKCS#7 padding, and HMAC-SHA256 over all of those.
func (fk fernetKey) seal(plaintext []byte, now time.Time, iv [aes.BlockSize]byte) []byte {
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	n := headerSize + len(plaintext) + pad
	out := make([]byte, n, n+sha256.Size)
	out[0] = fernetVersion
	binary.BigEndian.PutUint64(out[1:9], uint64(now.Unix()))
	copy(out[9:headerSize], iv[:])
	body := out[headerSize:]
	copy(body, plaintext)
	for i := len(plaintext); i < len(body); i++ {
		body[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(fk.block, iv[:]).CryptBlocks(body, body)
	mac := hmac.New(sha256.New, fk.signing)
	mac.Write(out)
	return mac.Sum(out)
}

// Decrypt verifies token against every key and returns its plaintext and
// timestamp. Tokens with or without base64 padding are accepted (Keystone
// strips the padding). Any failure is ErrInvalid; the timestamp is not
// checked against a TTL, which is the caller's business.
func (k *Keys) Decrypt(token string) (plaintext []byte, ts time.Time, err error) {
	raw, ok := decodeToken(token)
	if !ok || len(raw) < overhead+aes.BlockSize || raw[0] != fernetVersion ||
		(len(raw)-overhead)%aes.BlockSize != 0 {
		return nil, time.Time{}, ErrInvalid
	}
	signed, sum := raw[:len(raw)-sha256.Size], raw[len(raw)-sha256.Size:]
	for _, fk := range k.keys {
		mac := hmac.New(sha256.New, fk.signing)
		mac.Write(signed)
		if !hmac.Equal(mac.Sum(nil), sum) {
			continue
		}
		plaintext, ok := fk.open(signed)
		if !ok {
			return nil, time.Time{}, ErrInvalid
		}
		ts := time.Unix(int64(binary.BigEndian.Uint64(raw[1:9])), 0).UTC()
		return plaintext, ts, nil
	}
	return nil, time.Time{}, ErrInvalid
}

// open decrypts an authenticated token (without its HMAC) and removes the
// PKCS#7 padding.
func (fk fernetKey) open(signed []byte) ([]byte, bool) {
	iv, body := signed[9:headerSize], bytes.Clone(signed[headerSize:])
	cipher.NewCBCDecrypter(fk.block, iv).CryptBlocks(body, body)
	pad := int(body[len(body)-1])
	if pad == 0 || pad > aes.BlockSize {
		return nil, false
	}
	want := bytes.Repeat([]byte{byte(pad)}, pad)
	if subtle.ConstantTimeCompare(body[len(body)-pad:], want) != 1 {
		return nil, false
	}
	return body[:len(body)-pad], true
}

// decodeToken decodes base64url with or without its padding. Decoding is
// strict: characters outside the alphabet (including the newlines Go's
// decoder would otherwise skip), wrong padding and non-zero trailing bits are
// rejected, so that no two token strings decode to the same bytes.
func decodeToken(token string) ([]byte, bool) {
	if trimmed := strings.TrimRight(token, "="); trimmed != token {
		if len(token)%4 != 0 || len(token)-len(trimmed) > 2 {
			return nil, false
		}
		token = trimmed
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, false
		}
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	return raw, err == nil
}
