package identity

import (
	"net/http"
	"testing"
)

// TestDisablingRevokesTokens: disabling a user, a project or a domain ends
// the tokens that depend on it, and enabling it again does not bring them
// back (as Keystone); new tokens work again after re-enabling.
func TestDisablingRevokesTokens(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	validate := func(subject string) int {
		req, _ := http.NewRequest("GET", tc.srv.URL+"/v3/auth/tokens", nil)
		req.Header.Set("X-Auth-Token", adm)
		req.Header.Set("X-Subject-Token", subject)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	d := str(tc.must(201, "POST", "/v3/domains", adm, map[string]any{"domain": map[string]any{"name": "d"}}), "domain", "id")
	for _, c := range []struct{ name, path, kind string }{
		{"user", "/v3/users/", "user"}, {"project", "/v3/projects/", "project"}, {"domain", "/v3/domains/", "domain"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := str(tc.must(201, "POST", "/v3/projects", adm, map[string]any{"project": map[string]any{"name": "p-" + c.name, "domain_id": d}}), "project", "id")
			u := str(tc.must(201, "POST", "/v3/users", adm, map[string]any{"user": map[string]any{"name": "u-" + c.name, "password": "pw", "domain_id": d}}), "user", "id")
			tc.must(204, "PUT", "/v3/projects/"+p+"/users/"+u+"/roles/"+tc.roleID("member"), adm, nil)
			login := func() (int, string) {
				status, _, hdr := tc.do("POST", "/v3/auth/tokens", "", map[string]any{"auth": map[string]any{
					"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": map[string]any{"id": u, "password": "pw"}}},
					"scope":    projectScope(p)}})
				return status, hdr.Get("X-Subject-Token")
			}
			_, tok := login()
			if s := validate(tok); s != 200 {
				t.Fatalf("before: %d", s)
			}
			target := map[string]string{"user": u, "project": p, "domain": d}[c.kind]
			tc.must(200, "PATCH", c.path+target, adm, map[string]any{c.kind: map[string]any{"enabled": false}})
			if s := validate(tok); s != 404 {
				t.Fatalf("after disabling the %s: %d", c.kind, s)
			}
			if s, _ := login(); s != 401 {
				t.Fatalf("login while the %s is disabled: %d", c.kind, s)
			}
			tc.must(200, "PATCH", c.path+target, adm, map[string]any{c.kind: map[string]any{"enabled": true}})
			if s := validate(tok); s != 404 {
				t.Fatalf("a token revoked by disabling the %s came back: %d", c.kind, s)
			}
			if s, fresh := login(); s != 201 || validate(fresh) != 200 {
				t.Fatalf("login after re-enabling the %s: %d", c.kind, s)
			}
		})
	}
}
