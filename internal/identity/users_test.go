package identity

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// authUserID asks for a token for a user by id and returns the status and
// the token (scope may be nil).
func authUserID(tc *testCloud, userID, password string, scope map[string]any) (int, string) {
	tc.t.Helper()
	auth := map[string]any{"identity": map[string]any{"methods": []string{"password"},
		"password": map[string]any{"user": map[string]any{"id": userID, "password": password}}}}
	if scope != nil {
		auth["scope"] = scope
	}
	status, _, hdr := tc.do("POST", "/v3/auth/tokens", "", map[string]any{"auth": auth})
	return status, hdr.Get("X-Subject-Token")
}

// mustAuthUserID is authUserID that fails the test unless a token is issued.
func mustAuthUserID(tc *testCloud, userID, password string, scope map[string]any) string {
	tc.t.Helper()
	status, tok := authUserID(tc, userID, password, scope)
	if status != http.StatusCreated {
		tc.t.Fatalf("token for %s: status %d", userID, status)
	}
	return tok
}

// subjectStatus validates tok as the admin: 200 when it is valid.
func subjectStatus(tc *testCloud, tok string) int {
	tc.t.Helper()
	req, _ := http.NewRequest("GET", tc.srv.URL+"/v3/auth/tokens", nil)
	req.Header.Set("X-Auth-Token", tc.adminToken)
	req.Header.Set("X-Subject-Token", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tc.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// mkUser creates a user in the default domain with extra attributes and
// returns its id.
func mkUser(tc *testCloud, name, password string, attrs map[string]any) string {
	tc.t.Helper()
	u := map[string]any{"name": name, "password": password}
	for k, v := range attrs {
		u[k] = v
	}
	return str(tc.must(201, "POST", "/v3/users", tc.adminToken, map[string]any{"user": u}), "user", "id")
}

func changeOwnPassword(tc *testCloud, userID, orig, pw string) (int, map[string]any) {
	tc.t.Helper()
	status, body, _ := tc.do("POST", "/v3/users/"+userID+"/password", "", map[string]any{"user": map[string]any{"original_password": orig, "password": pw}})
	return status, body
}

func TestUserCRUD(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	proj := str(tc.must(201, "POST", "/v3/projects", adm, map[string]any{"project": map[string]any{"name": "p1"}}), "project", "id")
	out := tc.must(201, "POST", "/v3/users", adm, map[string]any{"user": map[string]any{
		"name": "  alice ", "password": "s3cret", "email": "alice@example.com", "description": "d", "enabled": false,
		"default_project_id": proj, "options": map[string]any{"ignore_password_expiry": true}}})["user"].(map[string]any)
	id := out["id"].(string)
	for k, want := range map[string]any{"name": "alice", "domain_id": "default", "email": "alice@example.com", "description": "d",
		"enabled": false, "default_project_id": proj, "password_expires_at": nil} {
		if out[k] != want {
			t.Errorf("create: %s = %v, want %v", k, out[k], want)
		}
	}
	if _, ok := out["password"]; ok {
		t.Fatalf("password shown: %v", out)
	}
	if opts := out["options"].(map[string]any); opts["ignore_password_expiry"] != true {
		t.Fatalf("options: %v", out)
	}
	if !strings.HasSuffix(str(out, "links", "self"), "/v3/users/"+id) {
		t.Fatalf("links: %v", out)
	}
	got := tc.must(200, "GET", "/v3/users/"+id, adm, nil)["user"].(map[string]any)
	if got["email"] != "alice@example.com" || got["enabled"] != false {
		t.Fatalf("get: %v", got)
	}
	// Without a default project the attribute is absent, as Keystone.
	bob := mkUser(tc, "bob", "pw", nil)
	if _, ok := tc.must(200, "GET", "/v3/users/"+bob, adm, nil)["user"].(map[string]any)["default_project_id"]; ok {
		t.Fatal("default_project_id shown when unset")
	}
	dom := str(tc.must(201, "POST", "/v3/domains", adm, map[string]any{"domain": map[string]any{"name": "d2"}}), "domain", "id")
	carol := mkUser(tc, "carol", "pw", map[string]any{"domain_id": dom})

	for _, c := range []struct {
		query string
		want  []string
	}{
		{"name=alice", []string{id}},
		{"enabled=false", []string{id}},
		{"enabled=False", []string{id}},
		{"domain_id=" + dom, []string{carol}},
		{"name__icontains=OB", []string{bob}},
		{"name__startswith=car", []string{carol}},
		{"name=nobody", nil},
	} {
		list := tc.must(200, "GET", "/v3/users?"+c.query, adm, nil)["users"].([]any)
		var ids []string
		for _, u := range list {
			ids = append(ids, u.(map[string]any)["id"].(string))
		}
		if strings.Join(ids, ",") != strings.Join(c.want, ",") {
			t.Errorf("?%s: got %v, want %v", c.query, ids, c.want)
		}
	}

	upd := tc.must(200, "PATCH", "/v3/users/"+id, adm, map[string]any{"user": map[string]any{
		"name": "alice2", "email": "a2@example.com", "project_id": proj, "enabled": true, "default_project_id": nil,
		"options": map[string]any{"ignore_password_expiry": nil, "lock_password": true}}})["user"].(map[string]any)
	if upd["name"] != "alice2" || upd["email"] != "a2@example.com" || upd["project_id"] != proj || upd["enabled"] != true || upd["description"] != "d" {
		t.Fatalf("update: %v", upd)
	}
	if _, ok := upd["default_project_id"]; ok {
		t.Fatalf("default_project_id not cleared: %v", upd)
	}
	if opts := upd["options"].(map[string]any); len(opts) != 1 || opts["lock_password"] != true {
		t.Fatalf("options patch: %v", opts)
	}
	// Names are unique per domain only.
	tc.must(409, "POST", "/v3/users", adm, map[string]any{"user": map[string]any{"name": "bob"}})
	tc.must(201, "POST", "/v3/users", adm, map[string]any{"user": map[string]any{"name": "bob", "domain_id": dom}})
	tc.must(409, "PATCH", "/v3/users/"+id, adm, map[string]any{"user": map[string]any{"name": "bob"}})

	tc.must(204, "DELETE", "/v3/users/"+id, adm, nil)
	tc.must(404, "GET", "/v3/users/"+id, adm, nil)
	tc.must(404, "DELETE", "/v3/users/"+id, adm, nil)
	tc.must(404, "PATCH", "/v3/users/"+id, adm, map[string]any{"user": map[string]any{"name": "x"}})
}

func TestUserBadInput(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	dom := str(tc.must(201, "POST", "/v3/domains", adm, map[string]any{"domain": map[string]any{"name": "d2"}}), "domain", "id")
	for _, c := range []struct {
		body any
		want int
	}{
		{`{"user": {"name": ""}}`, 400},
		{`{"user": {"name": "   "}}`, 400},
		{map[string]any{"user": map[string]any{"name": strings.Repeat("x", 256)}}, 400},
		{map[string]any{"user": map[string]any{"name": strings.Repeat("x", 255)}}, 201},
		{`{"user": {"name": 5}}`, 400},
		{`{"user": {}}`, 400},
		{`{"user": {"name": "u", "enabled": "True"}}`, 400},
		{`{"user": {"name": "u", "password": 5}}`, 400},
		{`{"user": {"name": "u", "domain_id": "missing"}}`, 404},
		{`{"user": {"name": "u", "domain_id": "bad id!"}}`, 400},
		{`{"user": {"name": "u", "domain_id": ""}}`, 400},
		{`{"user": {"name": "u", "default_project_id": "` + dom + `"}}`, 400},
		{`{"user": {"name": "u", "default_project_id": 7}}`, 400},
		{`{"user": {"name": "u", "description": 7}}`, 400},
		{`{"user": {"name": "u", "options": {"shiny": true}}}`, 400},
		{`{"user": {"name": "u", "options": {"lock_password": "yes"}}}`, 400},
		{`{"user": {"name": "u", "options": []}}`, 400},
		{`{"user": {"name": "u", "options": {"multi_factor_auth_rules": [["password", "password"]]}}}`, 400},
		{`{"user": {"name": "u", "options": {"multi_factor_auth_rules": [[]]}}}`, 400},
		{`{"user": {"name": "u", "options": {"multi_factor_auth_rules": [["password", "totp"]], "multi_factor_auth_enabled": true}}}`, 201},
		{`{"user": {"name": "nopw", "password": null}}`, 201},
		{`{"user": "u"}`, 400},
		{`{"users": {}}`, 400},
		{`{"user": {"name": "u"`, 400},
		{`{"user": {"name": "ユーザー☁"}}`, 201},
	} {
		status, body, _ := tc.do("POST", "/v3/users", adm, c.body)
		if status != c.want {
			t.Errorf("POST %v: got %d %v, want %d", c.body, status, body, c.want)
		}
		if c.want >= 400 && str(body, "error", "title") == "" {
			t.Errorf("POST %v: no Keystone error body: %v", c.body, body)
		}
	}
	id := mkUser(tc, "target", "pw", nil)
	for _, c := range []struct {
		body any
		want int
	}{
		{`{"user": {}}`, 400},
		{`{"user": {"domain_id": "` + dom + `"}}`, 400},
		{`{"user": {"domain_id": "default"}}`, 200},
		{`{"user": {"id": "other"}}`, 400},
		{`{"user": {"enabled": 1}}`, 400},
		{`{"user": {"name": null}}`, 400},
		{`{"user": {"options": {"nope": null}}}`, 400},
		{`{"user": {"password": null}}`, 200},
		{`{"user": "x"}`, 400},
	} {
		status, body, _ := tc.do("PATCH", "/v3/users/"+id, adm, c.body)
		if status != c.want {
			t.Errorf("PATCH %v: got %d %v, want %d", c.body, status, body, c.want)
		}
	}
	// A user without a password cannot authenticate.
	if s, _ := authUserID(tc, id, "pw", nil); s != 401 {
		t.Fatalf("auth after password null: %d", s)
	}
	for _, q := range []string{"password_expires_at=bogus", "password_expires_at=xx:2030-01-01T00:00:00Z"} {
		tc.must(400, "GET", "/v3/users?"+q, adm, nil)
	}
}

func TestUserTokensRevoked(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	id := mkUser(tc, "dave", "pw1", nil)
	tok := mustAuthUserID(tc, id, "pw1", nil)
	if s := subjectStatus(tc, tok); s != 200 {
		t.Fatalf("fresh token: %d", s)
	}
	// Disabling revokes; enabling again does not bring the token back.
	tc.must(200, "PATCH", "/v3/users/"+id, adm, map[string]any{"user": map[string]any{"enabled": false}})
	if s, _ := authUserID(tc, id, "pw1", nil); s != 401 {
		t.Fatalf("disabled user authenticates: %d", s)
	}
	tc.must(200, "PATCH", "/v3/users/"+id, adm, map[string]any{"user": map[string]any{"enabled": true}})
	if s := subjectStatus(tc, tok); s != 404 {
		t.Fatalf("token after disable/enable: %d", s)
	}
	// A change of an unrelated attribute keeps tokens.
	time.Sleep(5 * time.Millisecond)
	tok = mustAuthUserID(tc, id, "pw1", nil)
	tc.must(200, "PATCH", "/v3/users/"+id, adm, map[string]any{"user": map[string]any{"email": "d@example.com"}})
	if s := subjectStatus(tc, tok); s != 200 {
		t.Fatalf("token after email change: %d", s)
	}
	// An admin reset revokes; only the new password works.
	tc.must(200, "PATCH", "/v3/users/"+id, adm, map[string]any{"user": map[string]any{"password": "pw2"}})
	if s := subjectStatus(tc, tok); s != 404 {
		t.Fatalf("token after reset: %d", s)
	}
	if s, _ := authUserID(tc, id, "pw1", nil); s != 401 {
		t.Fatalf("old password after reset: %d", s)
	}
	time.Sleep(5 * time.Millisecond)
	tok = mustAuthUserID(tc, id, "pw2", nil)
	// Deleting revokes and removes memberships and grants.
	grp := str(tc.must(201, "POST", "/v3/groups", adm, map[string]any{"group": map[string]any{"name": "g"}}), "group", "id")
	tc.must(204, "PUT", "/v3/groups/"+grp+"/users/"+id, adm, nil)
	if err := tc.svc.store.AddAssignment(context.Background(), Assignment{Type: UserProject, ActorID: id, TargetID: tc.adminProj, RoleID: tc.roleID("member")}); err != nil {
		t.Fatal(err)
	}
	tc.must(204, "DELETE", "/v3/users/"+id, adm, nil)
	if s := subjectStatus(tc, tok); s != 404 {
		t.Fatalf("token after delete: %d", s)
	}
	if users := tc.must(200, "GET", "/v3/groups/"+grp+"/users", adm, nil)["users"].([]any); len(users) != 0 {
		t.Fatalf("membership survived: %v", users)
	}
	if as, _ := tc.svc.store.ListAssignments(context.Background(), AssignmentFilter{ActorIDs: []string{id}}); len(as) != 0 {
		t.Fatalf("assignments survived: %v", as)
	}
}

func TestChangeOwnPassword(t *testing.T) {
	tc := newTestCloud(t)
	id := mkUser(tc, "erin", "old", nil)
	tok := mustAuthUserID(tc, id, "old", nil)
	for _, c := range []struct {
		body any
		want int
	}{
		{map[string]any{"user": map[string]any{"original_password": "wrong", "password": "new"}}, 401},
		{map[string]any{"user": map[string]any{"password": "new"}}, 400},
		{map[string]any{"user": map[string]any{"original_password": "old"}}, 400},
		{map[string]any{"user": map[string]any{"original_password": "old", "password": 5}}, 400},
		{map[string]any{"user": map[string]any{"original_password": "old", "password": "new", "name": "x"}}, 400},
		{map[string]any{"password": "new"}, 400},
		{`{"user": `, 400},
	} {
		status, body, _ := tc.do("POST", "/v3/users/"+id+"/password", "", c.body)
		if status != c.want || body["error"] == nil {
			t.Errorf("%v: got %d %v, want %d", c.body, status, body, c.want)
		}
	}
	if s, _ := changeOwnPassword(tc, "nobody", "old", "new"); s != 401 {
		t.Fatalf("unknown user: %d", s)
	}
	if s, body := changeOwnPassword(tc, id, "old", "new"); s != 204 {
		t.Fatalf("change: %d %v", s, body)
	}
	if s := subjectStatus(tc, tok); s != 404 {
		t.Fatalf("old token after change: %d", s)
	}
	// Authenticating with the revoked token is Keystone's 404, not a 401.
	if s, body, _ := tc.do("POST", "/v3/auth/tokens", "", map[string]any{"auth": map[string]any{"identity": map[string]any{
		"methods": []string{"token"}, "token": map[string]any{"id": tok}}}}); s != 404 {
		t.Fatalf("auth with revoked token: %d %v", s, body)
	}
	if s, _ := authUserID(tc, id, "old", nil); s != 401 {
		t.Fatalf("old password: %d", s)
	}
	time.Sleep(5 * time.Millisecond)
	mustAuthUserID(tc, id, "new", nil)
	if s, _, _ := tc.do("GET", "/v3/users/"+id+"/password", tc.adminToken, nil); s != 405 {
		t.Fatalf("GET password: %d", s)
	}
}

func TestSecurityCompliance(t *testing.T) {
	t.Run("password regex", func(t *testing.T) {
		tc := newTestCloud(t, func(c *Config) {
			c.Security.PasswordRegex = `[a-z]{3,}[0-9]`
			c.Security.PasswordRegexDescription = "three letters then a digit"
		})
		status, body, _ := tc.do("POST", "/v3/users", tc.adminToken, map[string]any{"user": map[string]any{"name": "u", "password": "ab1"}})
		if status != 400 || !strings.Contains(str(body, "error", "message"), "three letters then a digit") {
			t.Fatalf("weak password: %d %v", status, body)
		}
		tc.must(400, "POST", "/v3/users", tc.adminToken, map[string]any{"user": map[string]any{"name": "u", "password": "1abc1"}}) // re.match anchors at the start
		tc.must(400, "POST", "/v3/users", tc.adminToken, map[string]any{"user": map[string]any{"name": "u", "password": nil}})
		id := mkUser(tc, "u", "abcd1", nil)
		tc.must(400, "PATCH", "/v3/users/"+id, tc.adminToken, map[string]any{"user": map[string]any{"password": "x"}})
		if s, _ := changeOwnPassword(tc, id, "abcd1", "x"); s != 400 {
			t.Fatalf("weak self-service password: %d", s)
		}
		if s, _ := changeOwnPassword(tc, id, "abcd1", "xyz2!"); s != 204 {
			t.Fatalf("good self-service password: %d", s)
		}
	})

	t.Run("password history", func(t *testing.T) {
		tc := newTestCloud(t, func(c *Config) { c.Security.UniqueLastPasswordCount = 2 })
		id := mkUser(tc, "u", "p0", nil)
		for _, c := range []struct {
			orig, pw string
			want     int
		}{
			{"p0", "p0", 400},
			{"p0", "p1", 204},
			{"p1", "p1", 400},
			{"p1", "p0", 400},
			{"p1", "p2", 204},
			{"p2", "p0", 204}, // p0 has left the last two
		} {
			if s, body := changeOwnPassword(tc, id, c.orig, c.pw); s != c.want {
				t.Fatalf("%s -> %s: %d %v, want %d", c.orig, c.pw, s, body, c.want)
			}
		}
		// An admin reset is not checked against the history.
		tc.must(200, "PATCH", "/v3/users/"+id, tc.adminToken, map[string]any{"user": map[string]any{"password": "p0"}})
		mustAuthUserID(tc, id, "p0", nil)
	})

	t.Run("minimum password age", func(t *testing.T) {
		tc := newTestCloud(t, func(c *Config) { c.Security.MinimumPasswordAgeDays = 1 })
		id := mkUser(tc, "u", "p0", nil)
		if s, _ := changeOwnPassword(tc, id, "p0", "p1"); s != 204 {
			t.Fatalf("first change (admin-set password): %d", s)
		}
		if s, body := changeOwnPassword(tc, id, "p1", "p2"); s != 400 || !strings.Contains(str(body, "error", "message"), "minimum password age") {
			t.Fatalf("second change too soon: %d %v", s, body)
		}
		tc.must(200, "PATCH", "/v3/users/"+id, tc.adminToken, map[string]any{"user": map[string]any{"password": "p3"}})
		if s, _ := changeOwnPassword(tc, id, "p3", "p4"); s != 204 {
			t.Fatalf("change after admin reset: %d", s)
		}
	})

	t.Run("password expiry", func(t *testing.T) {
		tc := newTestCloud(t, func(c *Config) { c.Security.PasswordExpiresDays = 2 })
		out := tc.must(201, "POST", "/v3/users", tc.adminToken, map[string]any{"user": map[string]any{"name": "u", "password": "p"}})
		exp, err := time.Parse("2006-01-02T15:04:05.000000", str(out, "user", "password_expires_at"))
		if err != nil || time.Until(exp) < 47*time.Hour || time.Until(exp) > 49*time.Hour {
			t.Fatalf("password_expires_at: %v (%v)", out, err)
		}
		id := str(out, "user", "id")
		exempt := tc.must(201, "POST", "/v3/users", tc.adminToken, map[string]any{"user": map[string]any{"name": "v", "password": "p",
			"options": map[string]any{"ignore_password_expiry": true}}})
		if v := exempt["user"].(map[string]any)["password_expires_at"]; v != nil {
			t.Fatalf("ignore_password_expiry: %v", v)
		}
		now := url.QueryEscape(time.Now().UTC().Format(time.RFC3339))
		for q, want := range map[string]int{"gt:" + now: 1, "lt:" + now: 0, "neq:" + now: 1, now: 0} {
			if list := tc.must(200, "GET", "/v3/users?password_expires_at="+q, tc.adminToken, nil)["users"].([]any); len(list) != want {
				t.Errorf("password_expires_at=%s: %v", q, list)
			} else if want == 1 && list[0].(map[string]any)["id"] != id {
				t.Errorf("password_expires_at=%s: %v", q, list)
			}
		}
		mustAuthUserID(tc, id, "p", nil)
		// An expired password refuses logins but can still be changed.
		if _, err := tc.svc.store.db.W.Exec(`UPDATE passwords SET expires_at = ? WHERE user_id = ?`, micros(time.Now().Add(-time.Minute)), id); err != nil {
			t.Fatal(err)
		}
		tc.svc.invalidate()
		if s, _ := authUserID(tc, id, "p", nil); s != 401 {
			t.Fatalf("expired password: %d", s)
		}
		if s, body := changeOwnPassword(tc, id, "p", "q"); s != 204 {
			t.Fatalf("change expired password: %d %v", s, body)
		}
		mustAuthUserID(tc, id, "q", nil)
	})

	t.Run("change password upon first use", func(t *testing.T) {
		tc := newTestCloud(t, func(c *Config) { c.Security.ChangePasswordUponFirstUse = true })
		id := mkUser(tc, "u", "p0", nil)
		if s, _ := authUserID(tc, id, "p0", nil); s != 401 {
			t.Fatalf("first use without change: %d", s)
		}
		if s, body := changeOwnPassword(tc, id, "p0", "p1"); s != 204 {
			t.Fatalf("change: %d %v", s, body)
		}
		mustAuthUserID(tc, id, "p1", nil)
		// An admin reset requires a change again.
		tc.must(200, "PATCH", "/v3/users/"+id, tc.adminToken, map[string]any{"user": map[string]any{"password": "p2"}})
		if s, _ := authUserID(tc, id, "p2", nil); s != 401 {
			t.Fatalf("after admin reset: %d", s)
		}
		exempt := mkUser(tc, "v", "p0", map[string]any{"options": map[string]any{"ignore_change_password_upon_first_use": true}})
		mustAuthUserID(tc, exempt, "p0", nil)
	})

	t.Run("lockout", func(t *testing.T) {
		const duration = 300 * time.Millisecond
		tc := newTestCloud(t, func(c *Config) {
			c.Security.LockoutFailureAttempts = 2
			c.Security.LockoutDuration = duration
		})
		id := mkUser(tc, "u", "p", nil)
		exempt := mkUser(tc, "v", "p", map[string]any{"options": map[string]any{"ignore_lockout_failure_attempts": true}})
		for _, uid := range []string{id, exempt} {
			for range 2 {
				if s, _ := authUserID(tc, uid, "wrong", nil); s != 401 {
					t.Fatalf("wrong password: %d", s)
				}
			}
		}
		if s, _ := authUserID(tc, id, "p", nil); s != 401 {
			t.Fatalf("locked user authenticates: %d", s)
		}
		// A locked account cannot change its password either.
		if s, _ := changeOwnPassword(tc, id, "p", "q"); s != 401 {
			t.Fatalf("locked user changes password: %d", s)
		}
		mustAuthUserID(tc, exempt, "p", nil)
		time.Sleep(duration + 50*time.Millisecond)
		mustAuthUserID(tc, id, "p", nil)
	})

	t.Run("lock password", func(t *testing.T) {
		tc := newTestCloud(t)
		id := mkUser(tc, "u", "p0", map[string]any{"options": map[string]any{"lock_password": true}})
		if s, _ := changeOwnPassword(tc, id, "p0", "p1"); s != 400 {
			t.Fatalf("lock_password: %d", s)
		}
		tc.must(200, "PATCH", "/v3/users/"+id, tc.adminToken, map[string]any{"user": map[string]any{"password": "p1"}})
		mustAuthUserID(tc, id, "p1", nil)
	})
}

func TestUserProjectsAndGroups(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	ctx := context.Background()
	id := mkUser(tc, "frank", "pw", nil)
	var projects []string
	for _, n := range []string{"pa", "pb", "pc"} {
		projects = append(projects, str(tc.must(201, "POST", "/v3/projects", adm, map[string]any{"project": map[string]any{"name": n}}), "project", "id"))
	}
	member := tc.roleID("member")
	grp := str(tc.must(201, "POST", "/v3/groups", adm, map[string]any{"group": map[string]any{"name": "devs"}}), "group", "id")
	tc.must(204, "PUT", "/v3/groups/"+grp+"/users/"+id, adm, nil)
	for _, a := range []Assignment{
		{Type: UserProject, ActorID: id, TargetID: projects[0], RoleID: member},
		{Type: GroupProject, ActorID: grp, TargetID: projects[1], RoleID: member},
	} {
		if err := tc.svc.store.AddAssignment(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	list := tc.must(200, "GET", "/v3/users/"+id+"/projects", adm, nil)["projects"].([]any)
	if len(list) != 2 {
		t.Fatalf("user projects: %v", list)
	}
	if l := tc.must(200, "GET", "/v3/users/"+id+"/projects?name=pb", adm, nil)["projects"].([]any); len(l) != 1 || l[0].(map[string]any)["id"] != projects[1] {
		t.Fatalf("user projects by name: %v", l)
	}
	tc.must(404, "GET", "/v3/users/nobody/projects", adm, nil)
	groups := tc.must(200, "GET", "/v3/users/"+id+"/groups", adm, nil)["groups"].([]any)
	if len(groups) != 1 {
		t.Fatalf("user groups: %v", groups)
	}
	if g := groups[0].(map[string]any); g["id"] != grp || g["membership_expires_at"] != nil {
		t.Fatalf("user group: %v", g)
	} else if _, ok := g["membership_expires_at"]; !ok {
		t.Fatalf("membership_expires_at missing: %v", g)
	}
	tc.must(404, "GET", "/v3/users/nobody/groups", adm, nil)
}

func TestUserPolicy(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	ctx := context.Background()
	me := tc.createUser("member1", "pw", tc.adminProj)
	other := mkUser(tc, "other", "pw", nil)
	tok, _ := tc.passwordToken("member1", "pw", projectScope(tc.adminProj))
	for _, c := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", "/v3/users/" + me, nil, 200},
		{"GET", "/v3/users/" + other, nil, 403},
		{"GET", "/v3/users/nobody", nil, 403},
		{"GET", "/v3/users", nil, 403},
		{"POST", "/v3/users", map[string]any{"user": map[string]any{"name": "x"}}, 403},
		{"POST", "/v3/users", `{"user": {"name": ""}}`, 403},
		{"PATCH", "/v3/users/" + me, map[string]any{"user": map[string]any{"name": "x"}}, 403},
		{"DELETE", "/v3/users/" + other, nil, 403},
		{"GET", "/v3/users/" + me + "/projects", nil, 200},
		{"GET", "/v3/users/" + other + "/projects", nil, 403},
		{"GET", "/v3/users/" + me + "/groups", nil, 200},
		{"GET", "/v3/users/" + other + "/groups", nil, 403},
		{"GET", "/v3/users", "", 401},
	} {
		token := tok
		if c.want == 401 {
			token = ""
		}
		status, body, _ := tc.do(c.method, c.path, token, c.body)
		if status != c.want {
			t.Errorf("%s %s: got %d %v, want %d", c.method, c.path, status, body, c.want)
		}
	}

	// A domain admin manages the users of their domain only.
	dom := str(tc.must(201, "POST", "/v3/domains", adm, map[string]any{"domain": map[string]any{"name": "d2"}}), "domain", "id")
	dadmin := mkUser(tc, "dadmin", "pw", map[string]any{"domain_id": dom})
	if err := tc.svc.store.AddAssignment(ctx, Assignment{Type: UserDomain, ActorID: dadmin, TargetID: dom, RoleID: tc.roleID("admin")}); err != nil {
		t.Fatal(err)
	}
	// ... but the deprecated rule:admin_required half of every rule lets any
	// admin through; so check only what scoping changes: the listing and the
	// default domain of new users.
	dtok := mustAuthUserID(tc, dadmin, "pw", map[string]any{"domain": map[string]any{"id": dom}})
	users := tc.must(200, "GET", "/v3/users", dtok, nil)["users"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["id"] != dadmin {
		t.Fatalf("domain-scoped list: %v", users)
	}
	if l := tc.must(200, "GET", "/v3/users?domain_id=default", dtok, nil)["users"].([]any); len(l) != 0 {
		t.Fatalf("domain-scoped list of another domain: %v", l)
	}
	created := tc.must(201, "POST", "/v3/users", dtok, map[string]any{"user": map[string]any{"name": "new"}})
	if str(created, "user", "domain_id") != dom {
		t.Fatalf("user created by a domain admin: %v", created)
	}
}
