package token

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"time"
)

// Payload is what a kumo token says: who authenticated, how, for which
// scope, and when it expires. At most one of ProjectID, DomainID and System
// is set; none means an unscoped token.
type Payload struct {
	// Methods are the authentication methods used, from AuthMethods. Open
	// returns them in the order of AuthMethods.
	Methods       []string
	UserID        string
	ProjectID     string
	DomainID      string
	System        string // "all" for a system-scoped token, else ""
	TrustID       string
	AppCredID     string
	AccessTokenID string // OS-OAUTH1 access token
	IssuedAt      time.Time
	ExpiresAt     time.Time
	// AuditIDs are this token's audit id, then, for a token rescoped from
	// another, the audit chain id of the original.
	AuditIDs []string
}

// AuthMethods are the authentication methods a token can record, in the
// order of their bits in the encoded payload. The order is part of the
// payload format: append only.
var AuthMethods = [...]string{"password", "token", "application_credential", "oauth1", "totp", "mapped", "external"}

// NewAuditID returns a new audit id: 16 random bytes in urlsafe base64
// without padding (22 characters), as Keystone makes them.
func NewAuditID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// maxTokenLen bounds the tokens Open looks at; the largest payload Seal can
// encode (every id a 255-byte string) gives a token of about 2,500
// characters. Typical tokens are under 255.
const maxTokenLen = 4096

// Seal encodes p and encrypts it with the primary key. The token carries no
// base64 padding, as Keystone's do.
func (k *Keys) Seal(p Payload) (string, error) {
	b, err := encodePayload(p)
	if err != nil {
		return "", err
	}
	var iv [16]byte
	rand.Read(iv[:])
	return base64.RawURLEncoding.EncodeToString(k.keys[0].seal(b, p.IssuedAt, iv)), nil
}

// Open decrypts and decodes a token made by Seal. Every failure wraps
// ErrInvalid. Open does not check expiry; the caller compares ExpiresAt with
// its clock.
func (k *Keys) Open(token string) (Payload, error) {
	if len(token) > maxTokenLen {
		return Payload{}, ErrInvalid
	}
	b, _, err := k.Decrypt(token)
	if err != nil {
		return Payload{}, err
	}
	p, err := decodePayload(b)
	if err != nil {
		// Only a token signed with our keys gets here, so the detail (a
		// payload version from a newer kumo, say) is worth an operator's
		// attention and tells an attacker nothing.
		return Payload{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return p, nil
}

// The binary payload, version 1. All integers are big-endian.
//
//	version  byte    1
//	methods  byte    bit i set: AuthMethods[i] was used; never 0
//	flags    byte    which of the fields below are present (flag* bits)
//	user, project, domain, trust, app credential, access token:
//	         id      each only if its flag is set
//	issued   int64   IssuedAt in microseconds since the Unix epoch
//	expires  varint  ExpiresAt - IssuedAt in microseconds (zig-zag, minimal)
//	audit    audit   one, or two if flagTwoAuditIDs is set
//
//	id:     0x00 then 16 bytes, for 32 lowercase hex digits (a uuid4 hex)
//	        0x01 then length byte and 1-255 bytes, for any other id
//	audit:  0x00 then 16 bytes, for 22 characters of unpadded urlsafe
//	        base64 of 16 bytes
//	        0x01 then length byte and 0-255 bytes, for any other audit id
//
// Every payload has exactly one encoding: the decoder rejects the string
// form of an id that has a packed form, non-minimal varints and trailing
// bytes. A realistic project-scoped payload is 67 bytes.
const payloadV1 = 1

const (
	flagUser = 1 << iota
	flagProject
	flagDomain
	flagSystemAll
	flagTrust
	flagAppCred
	flagAccessToken
	flagTwoAuditIDs
)

const (
	formPacked = 0
	formString = 1
)

// Times must lie in years 1 to 9999, so that microseconds since the epoch
// and their differences fit in an int64.
var (
	minMicros = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxMicros = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()
)

func encodePayload(p Payload) ([]byte, error) {
	var methods byte
	for _, m := range p.Methods {
		bit := methodBit(m)
		if bit == 0 {
			return nil, fmt.Errorf("token payload: unknown auth method %q", m)
		}
		if methods&bit != 0 {
			return nil, fmt.Errorf("token payload: auth method %q listed twice", m)
		}
		methods |= bit
	}
	if methods == 0 {
		return nil, errors.New("token payload: no auth methods")
	}
	scopes := 0
	for _, s := range []string{p.ProjectID, p.DomainID, p.System} {
		if s != "" {
			scopes++
		}
	}
	if scopes > 1 {
		return nil, errors.New("token payload: more than one of project, domain and system scope")
	}
	if p.System != "" && p.System != "all" {
		return nil, fmt.Errorf("token payload: system scope %q, want \"all\"", p.System)
	}
	if n := len(p.AuditIDs); n != 1 && n != 2 {
		return nil, fmt.Errorf("token payload: %d audit ids, want 1 or 2", n)
	}
	issued, ok := micros(p.IssuedAt)
	if !ok {
		return nil, fmt.Errorf("token payload: issued at %v is out of range", p.IssuedAt)
	}
	expires, ok := micros(p.ExpiresAt)
	if !ok {
		return nil, fmt.Errorf("token payload: expires at %v is out of range", p.ExpiresAt)
	}

	ids := []struct {
		flag  byte
		value string
	}{
		{flagUser, p.UserID},
		{flagProject, p.ProjectID},
		{flagDomain, p.DomainID},
		{flagTrust, p.TrustID},
		{flagAppCred, p.AppCredID},
		{flagAccessToken, p.AccessTokenID},
	}
	var flags byte
	for _, id := range ids {
		if id.value != "" {
			flags |= id.flag
		}
	}
	if p.System != "" {
		flags |= flagSystemAll
	}
	if len(p.AuditIDs) == 2 {
		flags |= flagTwoAuditIDs
	}

	b := make([]byte, 0, 96)
	b = append(b, payloadV1, methods, flags)
	for _, id := range ids {
		if id.value == "" {
			continue
		}
		if len(id.value) > 255 {
			return nil, fmt.Errorf("token payload: id %.20q... is longer than 255 bytes", id.value)
		}
		if raw, ok := packedID(id.value); ok {
			b = append(b, formPacked)
			b = append(b, raw...)
		} else {
			b = append(b, formString, byte(len(id.value)))
			b = append(b, id.value...)
		}
	}
	b = binary.BigEndian.AppendUint64(b, uint64(issued))
	b = binary.AppendVarint(b, expires-issued)
	for _, a := range p.AuditIDs {
		if len(a) > 255 {
			return nil, fmt.Errorf("token payload: audit id %.20q... is longer than 255 bytes", a)
		}
		if raw, ok := packedAuditID(a); ok {
			b = append(b, formPacked)
			b = append(b, raw...)
		} else {
			b = append(b, formString, byte(len(a)))
			b = append(b, a...)
		}
	}
	return b, nil
}

func decodePayload(b []byte) (Payload, error) {
	d := decoder{b: b}
	if v := d.byte(); v != payloadV1 {
		if d.err != nil {
			return Payload{}, d.err
		}
		return Payload{}, fmt.Errorf("unknown payload version %d", v)
	}
	methods, flags := d.byte(), d.byte()
	if d.err != nil {
		return Payload{}, d.err
	}
	if methods == 0 || methods>>len(AuthMethods) != 0 {
		return Payload{}, fmt.Errorf("bad auth method bits %#x", methods)
	}
	if bits.OnesCount8(flags&(flagProject|flagDomain|flagSystemAll)) > 1 {
		return Payload{}, errors.New("more than one scope")
	}
	var p Payload
	p.Methods = make([]string, 0, bits.OnesCount8(methods))
	for i, m := range AuthMethods {
		if methods&(1<<i) != 0 {
			p.Methods = append(p.Methods, m)
		}
	}
	for _, f := range []struct {
		flag byte
		dst  *string
	}{
		{flagUser, &p.UserID},
		{flagProject, &p.ProjectID},
		{flagDomain, &p.DomainID},
		{flagTrust, &p.TrustID},
		{flagAppCred, &p.AppCredID},
		{flagAccessToken, &p.AccessTokenID},
	} {
		if flags&f.flag != 0 {
			*f.dst = d.id()
		}
	}
	if flags&flagSystemAll != 0 {
		p.System = "all"
	}
	issued := int64(d.uint64())
	delta := d.varint()
	if d.err != nil {
		return Payload{}, d.err
	}
	if issued < minMicros || issued > maxMicros || delta < minMicros-issued || delta > maxMicros-issued {
		return Payload{}, errors.New("time out of range")
	}
	p.IssuedAt = time.UnixMicro(issued).UTC()
	p.ExpiresAt = time.UnixMicro(issued + delta).UTC()
	p.AuditIDs = []string{d.auditID()}
	if flags&flagTwoAuditIDs != 0 {
		p.AuditIDs = append(p.AuditIDs, d.auditID())
	}
	if d.err != nil {
		return Payload{}, d.err
	}
	if len(d.b) != 0 {
		return Payload{}, fmt.Errorf("%d trailing bytes", len(d.b))
	}
	return p, nil
}

// decoder reads a payload; the first error sticks and later reads return
// zero values.
type decoder struct {
	b   []byte
	err error
}

var errTruncated = errors.New("truncated payload")

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.err = errTruncated
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) byte() byte {
	if b := d.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) uint64() uint64 {
	if b := d.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errors.New("bad varint")
		return 0
	}
	if n != len(binary.AppendVarint(nil, v)) {
		d.err = errors.New("non-minimal varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// str reads a length-prefixed string.
func (d *decoder) str() string {
	n := int(d.byte())
	return string(d.take(n))
}

func (d *decoder) id() string {
	switch d.byte() {
	case formPacked:
		return hex.EncodeToString(d.take(16))
	case formString:
		s := d.str()
		if d.err == nil {
			if _, packable := packedID(s); packable || s == "" {
				d.err = errors.New("id in non-canonical form")
			}
		}
		return s
	default:
		if d.err == nil {
			d.err = errors.New("bad id form")
		}
		return ""
	}
}

func (d *decoder) auditID() string {
	switch d.byte() {
	case formPacked:
		return base64.RawURLEncoding.EncodeToString(d.take(16))
	case formString:
		s := d.str()
		if _, packable := packedAuditID(s); packable && d.err == nil {
			d.err = errors.New("audit id in non-canonical form")
		}
		return s
	default:
		if d.err == nil {
			d.err = errors.New("bad audit id form")
		}
		return ""
	}
}

func methodBit(m string) byte {
	for i, name := range AuthMethods {
		if m == name {
			return 1 << i
		}
	}
	return 0
}

// packedID returns the 16 bytes of a uuid4 hex id: exactly 32 lowercase hex
// digits. Anything else (upper case, dashes, "default") is stored as text so
// that it comes back unchanged.
func packedID(s string) ([]byte, bool) {
	if len(s) != 32 {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return nil, false
		}
	}
	raw, err := hex.DecodeString(s)
	return raw, err == nil
}

// packedAuditID returns the 16 bytes of a Keystone audit id: 22 characters
// of unpadded urlsafe base64 whose trailing bits are zero.
func packedAuditID(s string) ([]byte, bool) {
	if len(s) != 22 || strings.ContainsAny(s, "\r\n") {
		return nil, false // the decoder would skip CR and LF
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return raw, err == nil && len(raw) == 16
}

// micros returns t in microseconds since the epoch, truncating any finer
// precision, if t lies in years 1 to 9999.
func micros(t time.Time) (int64, bool) {
	if y := t.Year(); y < 1 || y > 9999 {
		return 0, false
	}
	return t.UnixMicro(), true
}
