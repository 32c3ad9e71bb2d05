package identity

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// OAuth 1.0a request signing (RFC 5849), the part Keystone's OS-OAUTH1 uses:
// protocol parameters in the Authorization header, HMAC signatures over the
// signature base string, and a timestamp window with nonce replay checks.

// oauthTimestampWindow is how far a request's oauth_timestamp may be from
// the server's clock (oauthlib's default, which Keystone uses).
const oauthTimestampWindow = 10 * time.Minute

var (
	errOAuthNoHeader  = errors.New("no OAuth Authorization header")
	errOAuthMalformed = errors.New("malformed OAuth Authorization header")
)

// parseOAuthHeader reads the protocol parameters of an Authorization header
// "OAuth realm="...", oauth_consumer_key="...", ...": names and values are
// percent-encoded inside double quotes (RFC 5849 section 3.5.1).
func parseOAuthHeader(h string) (map[string]string, error) {
	h = strings.TrimSpace(h)
	if len(h) < 6 || !strings.EqualFold(h[:6], "OAuth ") {
		return nil, errOAuthNoHeader
	}
	out := map[string]string{}
	for _, part := range strings.Split(h[6:], ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok || len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
			return nil, errOAuthMalformed
		}
		n, err1 := url.PathUnescape(strings.TrimSpace(name))
		v, err2 := url.PathUnescape(val[1 : len(val)-1])
		if err1 != nil || err2 != nil {
			return nil, errOAuthMalformed
		}
		if _, dup := out[n]; dup {
			return nil, errOAuthMalformed
		}
		out[n] = v
	}
	return out, nil
}

// oauthEscape percent-encodes s as RFC 5849 section 3.6 requires: every
// byte but the unreserved characters, with upper-case hex digits.
func oauthEscape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// oauthBaseURI is the base string URI of RFC 5849 section 3.4.1.2: scheme
// and host in lower case, the port only when it is not the default, the
// path, and no query.
func oauthBaseURI(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", errors.New("bad request URI")
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && !(scheme == "http" && p == "80") && !(scheme == "https" && p == "443") {
		host += ":" + p
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, nil
}

// oauthBaseString builds the signature base string of RFC 5849 section 3.4.1
// from the method, the request URI and every parameter that is signed.
func oauthBaseString(method, baseURI string, params [][2]string) string {
	enc := make([]string, 0, len(params))
	for _, p := range params {
		enc = append(enc, oauthEscape(p[0])+"="+oauthEscape(p[1]))
	}
	// Order by escaped name, then escaped value.
	sort.Slice(enc, func(i, j int) bool {
		ni, vi, _ := strings.Cut(enc[i], "=")
		nj, vj, _ := strings.Cut(enc[j], "=")
		if ni != nj {
			return ni < nj
		}
		return vi < vj
	})
	return strings.ToUpper(method) + "&" + oauthEscape(baseURI) + "&" + oauthEscape(strings.Join(enc, "&"))
}

// oauthSignature computes the signature of base with the client (consumer)
// and token secrets; ok is false for a method kumo does not accept.
// PLAINTEXT is refused: it would send the secrets in the clear.
func oauthSignature(method, base, clientSecret, tokenSecret string) (sig string, ok bool) {
	var h func() hash.Hash
	switch method {
	case "HMAC-SHA1":
		h = sha1.New
	case "HMAC-SHA256":
		h = sha256.New
	case "HMAC-SHA512":
		h = sha512.New
	default:
		return "", false
	}
	mac := hmac.New(h, []byte(oauthEscape(clientSecret)+"&"+oauthEscape(tokenSecret)))
	io.WriteString(mac, base)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil)), true
}

// oauthSignedParams collects the parameters a signature covers: the query,
// the protocol parameters except realm and oauth_signature, and a
// form-encoded body (RFC 5849 section 3.4.1.3).
func oauthSignedParams(r *http.Request, header map[string]string, form url.Values) [][2]string {
	var out [][2]string
	for k, vs := range r.URL.Query() {
		for _, v := range vs {
			out = append(out, [2]string{k, v})
		}
	}
	for k, v := range header {
		if k != "realm" && k != "oauth_signature" {
			out = append(out, [2]string{k, v})
		}
	}
	for k, vs := range form {
		for _, v := range vs {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

// oauthForm reads a form-encoded request body for signing, leaving r.Body
// empty; other bodies are not signed.
func oauthForm(r *http.Request) url.Values {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" || r.Body == nil {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 64*1024))
	if err != nil {
		return nil
	}
	v, _ := url.ParseQuery(string(b))
	return v
}

// oauthVerify checks the signature of a request against the secrets. urls
// are the request URIs the client may have signed (behind a proxy the
// public endpoint and the Host the request arrived with can differ); one
// must match. It also checks the version, the timestamp window and that the
// nonce was not used before.
func oauthVerify(r *http.Request, urls []string, header map[string]string, form url.Values, clientSecret, tokenSecret string) bool {
	if v, ok := header["oauth_version"]; ok && v != "1.0" {
		return false
	}
	ts, err := strconv.ParseInt(header["oauth_timestamp"], 10, 64)
	if err != nil || header["oauth_nonce"] == "" {
		return false
	}
	if d := time.Since(time.Unix(ts, 0)); d > oauthTimestampWindow || d < -oauthTimestampWindow {
		return false
	}
	given, err := base64.StdEncoding.DecodeString(header["oauth_signature"])
	if err != nil || len(given) == 0 {
		return false
	}
	params := oauthSignedParams(r, header, form)
	matched := false
	for _, u := range urls {
		base, err := oauthBaseURI(u)
		if err != nil {
			continue
		}
		sig, ok := oauthSignature(header["oauth_signature_method"], oauthBaseString(r.Method, base, params), clientSecret, tokenSecret)
		if !ok {
			return false
		}
		want, _ := base64.StdEncoding.DecodeString(sig)
		if hmac.Equal(given, want) {
			matched = true
			break
		}
	}
	return matched && oauthNonces.fresh(header["oauth_consumer_key"]+"\x00"+header["oauth_token"]+"\x00"+header["oauth_nonce"]+"\x00"+header["oauth_timestamp"], time.Unix(ts, 0))
}

// nonceCache remembers the nonces of verified requests for as long as their
// timestamps are acceptable, so that a captured signed request cannot be
// replayed. It is per process: enough for one kumo, best effort across a
// scaled-out control plane.
type nonceCache struct {
	mu   sync.Mutex
	seen map[string]time.Time
	next time.Time // when to sweep expired entries
}

var oauthNonces = &nonceCache{seen: map[string]time.Time{}}

// fresh records key and reports whether it had not been seen.
func (n *nonceCache) fresh(key string, ts time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := time.Now()
	if now.After(n.next) {
		for k, t := range n.seen {
			if now.Sub(t) > oauthTimestampWindow {
				delete(n.seen, k)
			}
		}
		n.next = now.Add(time.Minute)
	}
	if _, dup := n.seen[key]; dup {
		return false
	}
	n.seen[key] = ts
	return true
}
