package identity

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestOAuthSignatureVectors(t *testing.T) {
	// RFC 5849 section 3.4.1.1: the signature base string of its example
	// request (query, header and form parameters, with repeats).
	r, _ := http.NewRequest("POST", "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b", nil)
	h := map[string]string{"realm": "Example", "oauth_consumer_key": "9djdj82h48djs9d2", "oauth_token": "kkk9d7dh3k39sjv7",
		"oauth_signature_method": "HMAC-SHA1", "oauth_timestamp": "137131201", "oauth_nonce": "7d8f3e4a", "oauth_signature": "x"}
	form, _ := url.ParseQuery("c2&a3=2+q")
	base, _ := oauthBaseURI(r.URL.String())
	got := oauthBaseString("POST", base, oauthSignedParams(r, h, form))
	want := "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
	if got != want {
		t.Fatalf("base string\n got %s\nwant %s", got, want)
	}

	// The OAuth Core 1.0 appendix example, signed with HMAC-SHA1.
	r, _ = http.NewRequest("GET", "http://photos.example.net/photos?file=vacation.jpg&size=original", nil)
	h = map[string]string{"oauth_consumer_key": "dpf43f3p2l4k3l03", "oauth_token": "nnch734d00sl2jdk", "oauth_signature_method": "HMAC-SHA1",
		"oauth_timestamp": "1191242096", "oauth_nonce": "kllo9940pd9333jh", "oauth_version": "1.0"}
	base, _ = oauthBaseURI("http://Photos.example.net:80/photos")
	sig, ok := oauthSignature("HMAC-SHA1", oauthBaseString("GET", base, oauthSignedParams(r, h, nil)), "kd94hf93k423kf44", "pfkkdhi9sl3r4s00")
	if !ok || sig != "tR3+Ty81lMeYAr/Fid0kMTYa/WM=" {
		t.Fatalf("signature %q", sig)
	}
	if _, ok := oauthSignature("PLAINTEXT", "x", "a", "b"); ok {
		t.Fatal("PLAINTEXT must be refused")
	}

	hdr, err := parseOAuthHeader(`OAuth realm="Example", oauth_consumer_key="a%20b", oauth_nonce="n"`)
	if err != nil || hdr["oauth_consumer_key"] != "a b" || hdr["realm"] != "Example" {
		t.Fatalf("header: %v %v", hdr, err)
	}
	for _, bad := range []string{"", "Basic abc", `OAuth a=b`, `OAuth a="1", a="2"`} {
		if _, err := parseOAuthHeader(bad); err == nil {
			t.Errorf("header %q accepted", bad)
		}
	}
}

// oauthClient signs requests as a consumer does (HMAC-SHA1, header
// parameters).
type oauthClient struct {
	tc          *testCloud
	key, secret string
	nonce       int
}

func (o *oauthClient) send(method, path string, token, tokenSecret string, extra map[string]string, header http.Header, body []byte) (int, string, http.Header) {
	o.tc.t.Helper()
	o.nonce++
	p := map[string]string{"oauth_consumer_key": o.key, "oauth_signature_method": "HMAC-SHA1",
		"oauth_timestamp": strconv.FormatInt(time.Now().Unix(), 10), "oauth_nonce": "n" + strconv.Itoa(o.nonce) + strconv.FormatInt(time.Now().UnixNano(), 10),
		"oauth_version": "1.0"}
	if token != "" {
		p["oauth_token"] = token
	}
	for k, v := range extra {
		p[k] = v
	}
	u := o.tc.srv.URL + path
	req, _ := http.NewRequest(method, u, bytes.NewReader(body))
	base, _ := oauthBaseURI(u)
	sig, _ := oauthSignature("HMAC-SHA1", oauthBaseString(method, base, oauthSignedParams(req, p, nil)), o.secret, tokenSecret)
	p["oauth_signature"] = sig
	var parts []string
	for k, v := range p {
		parts = append(parts, oauthEscape(k)+`="`+oauthEscape(v)+`"`)
	}
	slices.Sort(parts)
	req.Header.Set("Authorization", "OAuth realm=\"\", "+strings.Join(parts, ", "))
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		o.tc.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), resp.Header
}

func TestConsumerCRUD(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	co := tc.must(201, "POST", "/v3/OS-OAUTH1/consumers", adm, map[string]any{"consumer": map[string]any{"description": "my app", "owner": "ops"}})["consumer"].(map[string]any)
	id := co["id"].(string)
	if co["secret"] == nil || co["description"] != "my app" || co["owner"] != "ops" || !strings.HasSuffix(str(co, "links", "self"), "/v3/OS-OAUTH1/consumers/"+id) {
		t.Fatalf("created consumer: %v", co)
	}
	got := tc.must(200, "GET", "/v3/OS-OAUTH1/consumers/"+id, adm, nil)["consumer"].(map[string]any)
	if got["secret"] != nil || got["description"] != "my app" {
		t.Fatalf("shown consumer: %v", got)
	}
	tc.must(201, "POST", "/v3/OS-OAUTH1/consumers", adm, map[string]any{})
	if cs := tc.must(200, "GET", "/v3/OS-OAUTH1/consumers", adm, nil)["consumers"].([]any); len(cs) != 2 || cs[0].(map[string]any)["secret"] != nil {
		t.Fatalf("list: %v", cs)
	}
	up := tc.must(200, "PATCH", "/v3/OS-OAUTH1/consumers/"+id, adm, map[string]any{"consumer": map[string]any{"description": "renamed"}})["consumer"].(map[string]any)
	if up["description"] != "renamed" || up["owner"] != "ops" || up["secret"] != nil {
		t.Fatalf("updated: %v", up)
	}
	for _, bad := range []map[string]any{
		{"consumer": map[string]any{"secret": "mine"}},
		{"consumer": map[string]any{}},
		{"consumer": map[string]any{"id": "other"}},
		{"consumer": map[string]any{"description": 3}},
		{"consumer": "x"},
	} {
		tc.must(400, "PATCH", "/v3/OS-OAUTH1/consumers/"+id, adm, bad)
	}
	tc.must(400, "POST", "/v3/OS-OAUTH1/consumers", adm, map[string]any{"consumer": map[string]any{"description": false}})

	tc.createUser("plain", "plain-pw", tc.adminProj)
	plain, _ := tc.passwordToken("plain", "plain-pw", projectScope(tc.adminProj))
	tc.must(403, "GET", "/v3/OS-OAUTH1/consumers", plain, nil)
	tc.must(403, "POST", "/v3/OS-OAUTH1/consumers", plain, map[string]any{})

	tc.must(204, "DELETE", "/v3/OS-OAUTH1/consumers/"+id, adm, nil)
	tc.must(404, "GET", "/v3/OS-OAUTH1/consumers/"+id, adm, nil)
	tc.must(404, "DELETE", "/v3/OS-OAUTH1/consumers/"+id, adm, nil)
	tc.must(404, "PATCH", "/v3/OS-OAUTH1/consumers/"+id, adm, map[string]any{"consumer": map[string]any{"description": "x"}})
}

func TestOAuthFlow(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	co := tc.must(201, "POST", "/v3/OS-OAUTH1/consumers", adm, map[string]any{"consumer": map[string]any{}})["consumer"].(map[string]any)
	oc := &oauthClient{tc: tc, key: co["id"].(string), secret: co["secret"].(string)}
	proj := http.Header{"Requested-Project-Id": {tc.adminProj}}

	// Request token: signed with the consumer secret alone.
	s, body, hdr := oc.send("POST", "/v3/OS-OAUTH1/request_token", "", "", map[string]string{"oauth_callback": "oob"}, proj, nil)
	if s != 201 || hdr.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Fatalf("request token: %d %s", s, body)
	}
	rv, _ := url.ParseQuery(body)
	reqID, reqSecret := rv.Get("oauth_token"), rv.Get("oauth_token_secret")
	if reqID == "" || reqSecret == "" || rv.Get("oauth_expires_at") == "" {
		t.Fatalf("request token body: %q", body)
	}
	bad := &oauthClient{tc: tc, key: oc.key, secret: "wrong"}
	if s, b, _ := bad.send("POST", "/v3/OS-OAUTH1/request_token", "", "", nil, proj, nil); s != 401 {
		t.Fatalf("bad signature: %d %s", s, b)
	}
	if s, b, _ := oc.send("POST", "/v3/OS-OAUTH1/request_token", "", "", nil, nil, nil); s != 400 {
		t.Fatalf("no project: %d %s", s, b)
	}
	if s, b, _ := oc.send("POST", "/v3/OS-OAUTH1/request_token", "", "", nil, http.Header{"Requested-Project-Id": {"nope"}}, nil); s != 404 {
		t.Fatalf("unknown project: %d %s", s, b)
	}

	// An access token request before authorization fails.
	if s, b, _ := oc.send("POST", "/v3/OS-OAUTH1/access_token", reqID, reqSecret, map[string]string{"oauth_verifier": "abcdefgh"}, nil, nil); s != 401 {
		t.Fatalf("unauthorized request token: %d %s", s, b)
	}

	// The user authorizes it with a role they hold; not one they lack.
	tc.must(404, "PUT", "/v3/OS-OAUTH1/authorize/"+reqID, adm, map[string]any{"roles": []any{map[string]any{"name": "nope"}}})
	other := str(tc.must(201, "POST", "/v3/roles", adm, map[string]any{"role": map[string]any{"name": "unheld"}}), "role", "id")
	tc.must(401, "PUT", "/v3/OS-OAUTH1/authorize/"+reqID, adm, map[string]any{"roles": []any{map[string]any{"id": other}}})
	tc.must(400, "PUT", "/v3/OS-OAUTH1/authorize/"+reqID, adm, map[string]any{"roles": "member"})
	auth := tc.must(200, "PUT", "/v3/OS-OAUTH1/authorize/"+reqID, adm, map[string]any{"roles": []any{map[string]any{"name": "member"}}})
	verifier := str(auth, "token", "oauth_verifier")
	if len(verifier) != 8 {
		t.Fatalf("verifier: %v", auth)
	}
	tc.must(401, "PUT", "/v3/OS-OAUTH1/authorize/"+reqID, adm, map[string]any{"roles": []any{map[string]any{"name": "member"}}})

	// Access token: signed with the request token's secret, with the verifier.
	if s, b, _ := oc.send("POST", "/v3/OS-OAUTH1/access_token", reqID, reqSecret, map[string]string{"oauth_verifier": "wrongwrg"}, nil, nil); s != 401 {
		t.Fatalf("wrong verifier: %d %s", s, b)
	}
	s, body, _ = oc.send("POST", "/v3/OS-OAUTH1/access_token", reqID, reqSecret, map[string]string{"oauth_verifier": verifier}, nil, nil)
	if s != 201 {
		t.Fatalf("access token: %d %s", s, body)
	}
	av, _ := url.ParseQuery(body)
	atID, atSecret := av.Get("oauth_token"), av.Get("oauth_token_secret")
	if s, b, _ := oc.send("POST", "/v3/OS-OAUTH1/access_token", reqID, reqSecret, map[string]string{"oauth_verifier": verifier}, nil, nil); s != 404 {
		t.Fatalf("request token reused: %d %s", s, b)
	}

	// The consumer gets a token with the access token.
	authBody, _ := json.Marshal(map[string]any{"auth": map[string]any{"identity": map[string]any{"methods": []string{"oauth1"}, "oauth1": map[string]any{}},
		"scope": "unscoped"}})
	s, body, hdr = oc.send("POST", "/v3/auth/tokens", atID, atSecret, nil, http.Header{"Content-Type": {"application/json"}}, authBody)
	if s != 201 {
		t.Fatalf("oauth1 auth: %d %s", s, body)
	}
	tok := hdr.Get("X-Subject-Token")
	var tb map[string]any
	_ = json.Unmarshal([]byte(body), &tb)
	if str(tb, "token", "project", "id") != tc.adminProj || str(tb, "token", "user", "id") != tc.adminID ||
		str(tb, "token", "OS-OAUTH1", "access_token_id") != atID || str(tb, "token", "OS-OAUTH1", "consumer_id") != oc.key {
		t.Fatalf("oauth token: %v", tb)
	}
	if names := tokenRoleNames(tb); !slices.Equal(names, []string{"member", "reader"}) {
		t.Fatalf("oauth token roles: %v (member and what it implies only)", names)
	}
	if s := tc.validateStatus(tok); s != 200 {
		t.Fatalf("validate oauth token: %d", s)
	}
	bad = &oauthClient{tc: tc, key: oc.key, secret: oc.secret}
	if s, b, _ := bad.send("POST", "/v3/auth/tokens", atID, "wrong", nil, http.Header{"Content-Type": {"application/json"}}, authBody); s != 401 {
		t.Fatalf("oauth1 auth with a bad signature: %d %s", s, b)
	}

	// The delegated token cannot delegate further or be rescoped.
	tc.must(403, "POST", "/v3/OS-TRUST/trusts", tok, map[string]any{"trust": map[string]any{
		"trustor_user_id": tc.adminID, "trustee_user_id": tc.adminID, "impersonation": false}})
	if s, b, _ := tc.do("POST", "/v3/auth/tokens", "", map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"token"}, "token": map[string]any{"id": tok}}}}); s != 403 {
		t.Fatalf("rescope oauth token: %d %v", s, b)
	}

	// The user's access tokens.
	base := "/v3/users/" + tc.adminID + "/OS-OAUTH1/access_tokens"
	ats := tc.must(200, "GET", base, adm, nil)["access_tokens"].([]any)
	if len(ats) != 1 || ats[0].(map[string]any)["id"] != atID || ats[0].(map[string]any)["project_id"] != tc.adminProj {
		t.Fatalf("access tokens: %v", ats)
	}
	tc.must(403, "GET", base, tok, nil)
	at := tc.must(200, "GET", base+"/"+atID, adm, nil)["access_token"].(map[string]any)
	if at["consumer_id"] != oc.key || at["secret"] != nil || at["access_secret"] != nil || str(at, "links", "roles") == "" {
		t.Fatalf("access token: %v", at)
	}
	roles := tc.must(200, "GET", base+"/"+atID+"/roles", adm, nil)["roles"].([]any)
	member := tc.roleID("member")
	if len(roles) != 1 || roles[0].(map[string]any)["id"] != member {
		t.Fatalf("access token roles: %v", roles)
	}
	tc.must(200, "GET", base+"/"+atID+"/roles/"+member, adm, nil)
	tc.must(404, "GET", base+"/"+atID+"/roles/"+other, adm, nil)
	tc.must(404, "GET", base+"/nope", adm, nil)

	// Deleting the access token voids the tokens it gave.
	tc.must(204, "DELETE", base+"/"+atID, adm, nil)
	if s := tc.validateStatus(tok); s != 404 {
		t.Fatalf("token of a deleted access token: %d", s)
	}
	if s, b, _ := oc.send("POST", "/v3/auth/tokens", atID, atSecret, nil, http.Header{"Content-Type": {"application/json"}}, authBody); s != 401 {
		t.Fatalf("auth with a deleted access token: %d %s", s, b)
	}
}

func TestOAuthReplayAndConsumerDelete(t *testing.T) {
	tc := newTestCloud(t)
	co := tc.must(201, "POST", "/v3/OS-OAUTH1/consumers", tc.adminToken, map[string]any{})["consumer"].(map[string]any)
	key, secret := co["id"].(string), co["secret"].(string)
	proj := http.Header{"Requested-Project-Id": {tc.adminProj}}
	// Sign one request by hand and send it twice: the nonce is spent.
	u := tc.srv.URL + "/v3/OS-OAUTH1/request_token"
	p := map[string]string{"oauth_consumer_key": key, "oauth_signature_method": "HMAC-SHA256",
		"oauth_timestamp": strconv.FormatInt(time.Now().Unix(), 10), "oauth_nonce": "replayed"}
	req, _ := http.NewRequest("POST", u, nil)
	base, _ := oauthBaseURI(u)
	sig, _ := oauthSignature("HMAC-SHA256", oauthBaseString("POST", base, oauthSignedParams(req, p, nil)), secret, "")
	authz := `OAuth oauth_consumer_key="` + key + `", oauth_signature_method="HMAC-SHA256", oauth_timestamp="` + p["oauth_timestamp"] +
		`", oauth_nonce="replayed", oauth_signature="` + oauthEscape(sig) + `"`
	for i, want := range []int{201, 401} {
		req, _ := http.NewRequest("POST", u, nil)
		req.Header.Set("Authorization", authz)
		req.Header["Requested-Project-Id"] = proj["Requested-Project-Id"]
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("send %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	// A stale timestamp is refused.
	oc := &oauthClient{tc: tc, key: key, secret: secret}
	old := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	if s, b, _ := oc.send("POST", "/v3/OS-OAUTH1/request_token", "", "", map[string]string{"oauth_timestamp": old}, proj, nil); s != 401 {
		t.Fatalf("stale timestamp: %d %s", s, b)
	}
	// Deleting the consumer drops its request tokens.
	s, body, _ := oc.send("POST", "/v3/OS-OAUTH1/request_token", "", "", nil, proj, nil)
	if s != 201 {
		t.Fatalf("request token: %d %s", s, body)
	}
	rv, _ := url.ParseQuery(body)
	tc.must(204, "DELETE", "/v3/OS-OAUTH1/consumers/"+key, tc.adminToken, nil)
	tc.must(404, "PUT", "/v3/OS-OAUTH1/authorize/"+rv.Get("oauth_token"), tc.adminToken, map[string]any{"roles": []any{}})
}
