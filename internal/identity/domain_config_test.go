package identity

import (
	"reflect"
	"testing"
)

func TestDomainConfig(t *testing.T) {
	tc := newTestCloud(t, func(c *Config) {
		c.Security.PasswordRegex = `^.{8,}$`
		c.Security.PasswordRegexDescription = "at least 8 characters"
	})
	tok := tc.adminToken
	d := str(tc.must(201, "POST", "/v3/domains", tok, map[string]any{"domain": map[string]any{"name": "ldapdom"}}), "domain", "id")
	cfgPath := "/v3/domains/" + d + "/config"
	tc.must(404, "GET", cfgPath, tok, nil)

	cfg := map[string]any{
		"identity": map[string]any{"driver": "ldap", "list_limit": 50.0},
		"ldap":     map[string]any{"url": "ldap://myldap.com:389/", "user_tree_dn": "ou=Users,dc=org", "password": "s3cret"},
	}
	out := tc.must(201, "PUT", cfgPath, tok, map[string]any{"config": cfg})
	shown := map[string]any{
		"identity": map[string]any{"driver": "ldap", "list_limit": 50.0},
		"ldap":     map[string]any{"url": "ldap://myldap.com:389/", "user_tree_dn": "ou=Users,dc=org"},
	}
	if !reflect.DeepEqual(out["config"], shown) {
		t.Fatalf("created config (password must not show): %v", out["config"])
	}
	// A second PUT replaces the config and answers 200.
	tc.must(200, "PUT", cfgPath, tok, map[string]any{"config": cfg})
	if got := tc.must(200, "GET", cfgPath, tok, nil); !reflect.DeepEqual(got["config"], shown) {
		t.Fatalf("config: %v", got)
	}
	if got := tc.must(200, "GET", cfgPath+"/ldap", tok, nil); !reflect.DeepEqual(got["config"], map[string]any{"ldap": shown["ldap"]}) {
		t.Fatalf("ldap group: %v", got)
	}
	if got := tc.must(200, "GET", cfgPath+"/identity/list_limit", tok, nil); !reflect.DeepEqual(got["config"], map[string]any{"list_limit": 50.0}) {
		t.Fatalf("list_limit option: %v", got)
	}
	tc.must(404, "GET", cfgPath+"/ldap/password", tok, nil)
	tc.must(404, "GET", cfgPath+"/ldap/suffix", tok, nil)

	for _, tt := range []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"empty config", "PUT", cfgPath, map[string]any{"config": map[string]any{}}, 403},
		{"no config", "PUT", cfgPath, map[string]any{}, 403},
		{"unknown group", "PUT", cfgPath, map[string]any{"config": map[string]any{"assignment": map[string]any{"driver": "sql"}}}, 403},
		{"unknown option", "PUT", cfgPath, map[string]any{"config": map[string]any{"ldap": map[string]any{"colour": "x"}}}, 403},
		{"group not an object", "PUT", cfgPath, map[string]any{"config": map[string]any{"ldap": "x"}}, 403},
		{"unknown domain", "PUT", "/v3/domains/nope/config", map[string]any{"config": cfg}, 404},
		{"read unknown group", "GET", cfgPath + "/assignment", nil, 403},
		{"read unknown option", "GET", cfgPath + "/ldap/colour", nil, 403},
		{"patch other group", "PATCH", cfgPath + "/ldap", map[string]any{"config": map[string]any{"identity": map[string]any{"driver": "x"}}}, 403},
		{"patch two options", "PATCH", cfgPath + "/identity/driver", map[string]any{"config": map[string]any{"driver": "x", "list_limit": 1}}, 403},
		{"patch other option", "PATCH", cfgPath + "/identity/driver", map[string]any{"config": map[string]any{"list_limit": 1}}, 403},
		{"patch missing option", "PATCH", cfgPath + "/ldap/suffix", map[string]any{"config": map[string]any{"suffix": "dc=x"}}, 404},
		{"delete missing option", "DELETE", cfgPath + "/ldap/suffix", nil, 404},
		{"not a config path", "GET", "/v3/domains/" + d + "/configs/x", nil, 404},
	} {
		if status, body, _ := tc.do(tt.method, tt.path, tok, tt.body); status != tt.want {
			t.Errorf("%s: status %d, want %d: %v", tt.name, status, tt.want, body)
		}
	}

	out = tc.must(200, "PATCH", cfgPath+"/identity", tok, map[string]any{"config": map[string]any{"identity": map[string]any{"driver": "sql2", "list_limit": 7}}})
	if str(out, "config", "identity", "driver") != "sql2" || out["config"].(map[string]any)["identity"].(map[string]any)["list_limit"] != 7.0 {
		t.Fatalf("patched group: %v", out)
	}
	out = tc.must(200, "PATCH", cfgPath+"/identity/driver", tok, map[string]any{"config": map[string]any{"driver": "sql3"}})
	if str(out, "config", "identity", "driver") != "sql3" || str(out, "config", "ldap", "url") == "" {
		t.Fatalf("patched option: %v", out)
	}
	out = tc.must(200, "PATCH", cfgPath, tok, map[string]any{"config": map[string]any{"ldap": map[string]any{"suffix": "dc=org"}}})
	if str(out, "config", "ldap", "suffix") != "dc=org" || str(out, "config", "ldap", "url") == "" {
		t.Fatalf("patched config: %v", out)
	}

	tc.must(204, "DELETE", cfgPath+"/identity/driver", tok, nil)
	tc.must(404, "GET", cfgPath+"/identity/driver", tok, nil)
	tc.must(204, "DELETE", cfgPath+"/identity", tok, nil)
	tc.must(404, "GET", cfgPath+"/identity", tok, nil)
	tc.must(404, "DELETE", cfgPath+"/identity", tok, nil)
	tc.must(204, "DELETE", cfgPath, tok, nil)
	tc.must(404, "GET", cfgPath, tok, nil)

	// Only an admin reads or writes domain configs.
	member := tc.memberToken()
	tc.must(403, "GET", cfgPath, member, nil)
	tc.must(403, "GET", cfgPath+"/ldap", member, nil)
	tc.must(403, "PUT", cfgPath, member, map[string]any{"config": cfg})
	tc.must(403, "GET", "/v3/domains/config/default", member, nil)
	tc.must(403, "GET", "/v3/domains/config/ldap/url/default", member, nil)

	// The password rules are public, for the default domain only.
	out = tc.must(200, "GET", "/v3/domains/default/config/security_compliance", member, nil)
	if str(out, "config", "security_compliance", "password_regex") != `^.{8,}$` {
		t.Fatalf("security compliance: %v", out)
	}
	out = tc.must(200, "GET", "/v3/domains/default/config/security_compliance/password_regex_description", member, nil)
	if str(out, "config", "password_regex_description") != "at least 8 characters" {
		t.Fatalf("security compliance option: %v", out)
	}
	tc.must(403, "GET", "/v3/domains/default/config/security_compliance/lockout_duration", member, nil)
	tc.must(403, "GET", "/v3/domains/"+d+"/config/security_compliance", tok, nil)
}

func TestDomainConfigDefaults(t *testing.T) {
	tc := newTestCloud(t)
	tok := tc.adminToken
	out := tc.must(200, "GET", "/v3/domains/config/default", tok, nil)
	cfg := out["config"].(map[string]any)
	if str(cfg, "identity", "driver") != "sql" || str(cfg, "ldap", "url") != "ldap://localhost" {
		t.Fatalf("defaults: %v", cfg)
	}
	if _, ok := cfg["ldap"].(map[string]any)["password"]; ok {
		t.Fatalf("defaults show the ldap password")
	}
	out = tc.must(200, "GET", "/v3/domains/config/identity/default", tok, nil)
	if id := out["config"].(map[string]any)["identity"].(map[string]any); len(id) != 2 || id["list_limit"] != nil {
		t.Fatalf("identity defaults: %v", out)
	}
	out = tc.must(200, "GET", "/v3/domains/config/ldap/user_tree_dn/default", tok, nil)
	if v, ok := out["config"].(map[string]any)["user_tree_dn"]; !ok || v != nil {
		t.Fatalf("ldap user_tree_dn default: %v", out)
	}
	out = tc.must(200, "GET", "/v3/domains/config/ldap/pool_size/default", tok, nil)
	if out["config"].(map[string]any)["pool_size"] != 10.0 {
		t.Fatalf("ldap pool_size default: %v", out)
	}
	tc.must(403, "GET", "/v3/domains/config/ldap/password/default", tok, nil)
	tc.must(403, "GET", "/v3/domains/config/resource/default", tok, nil)
	tc.must(403, "GET", "/v3/domains/config/ldap/colour/default", tok, nil)
}
