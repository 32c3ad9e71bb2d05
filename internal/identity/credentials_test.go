package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const credTestPassword = "cred-user-secret"

// credTestUser makes a user of the default domain straight in the store
// (so these tests need no other API than their own), grants it roles by
// name on project, and returns its id and a token scoped to project.
func credTestUser(tc *testCloud, name, project string, roles ...string) (string, string) {
	tc.t.Helper()
	ctx := context.Background()
	hash, err := tc.svc.hashPassword(credTestPassword)
	if err != nil {
		tc.t.Fatal(err)
	}
	u := &User{ID: newID(), DomainID: DefaultDomainID, Name: name, Enabled: true, CreatedAt: time.Now(), Extra: map[string]any{}, Options: map[string]any{}}
	if err := tc.svc.store.CreateUser(ctx, u, &PasswordRecord{Hash: hash, CreatedAt: time.Now()}); err != nil {
		tc.t.Fatal(err)
	}
	for _, r := range roles {
		if err := tc.svc.store.AddAssignment(ctx, Assignment{Type: UserProject, ActorID: u.ID, TargetID: project, RoleID: tc.roleID(r)}); err != nil {
			tc.t.Fatal(err)
		}
	}
	tc.svc.invalidate()
	tok, _ := tc.passwordToken(name, credTestPassword, projectScope(project))
	return u.ID, tok
}

func ec2BlobFor(access, secret string) string {
	b, _ := json.Marshal(map[string]any{"access": access, "secret": secret})
	return string(b)
}

func TestCredentialCRUDAndEncryptionAtRest(t *testing.T) {
	tc := newTestCloud(t)
	cred := tc.must(201, "POST", "/v3/credentials", tc.adminToken, map[string]any{"credential": map[string]any{
		"user_id": tc.adminID, "project_id": tc.adminProj, "type": "ec2", "blob": ec2BlobFor("AKIA-one", "very-secret-1"), "color": "blue"}})
	id := str(cred, "credential", "id")
	sum := sha256.Sum256([]byte("AKIA-one"))
	if id != hex.EncodeToString(sum[:]) {
		t.Fatalf("ec2 credential id %q is not sha256(access)", id)
	}
	if str(cred, "credential", "color") != "blue" || !strings.HasSuffix(str(cred, "credential", "links", "self"), "/v3/credentials/"+id) {
		t.Fatalf("create: %v", cred)
	}

	// The blob column holds ciphertext that the credential keys open.
	var raw, keyHash string
	if err := tc.svc.store.db.R.QueryRow(`SELECT blob, key_hash FROM credentials WHERE id = ?`, id).Scan(&raw, &keyHash); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, "very-secret-1") || strings.Contains(raw, "AKIA-one") || keyHash == "" {
		t.Fatalf("blob stored in clear: %q (key hash %q)", raw, keyHash)
	}
	if plain, err := tc.svc.openBlob(raw); err != nil || !strings.Contains(plain, "very-secret-1") {
		t.Fatalf("open stored blob: %q %v", plain, err)
	}

	// Tempest's PATCH: blob, project and type at once.
	other := tc.must(201, "POST", "/v3/projects", tc.adminToken, map[string]any{"project": map[string]any{"name": "other"}})
	otherID := str(other, "project", "id")
	up := tc.must(200, "PATCH", "/v3/credentials/"+id, tc.adminToken, map[string]any{"credential": map[string]any{
		"blob": ec2BlobFor("AKIA-two", "very-secret-2"), "project_id": otherID, "type": "ec2"}})
	if str(up, "credential", "id") != id || str(up, "credential", "project_id") != otherID || !strings.Contains(str(up, "credential", "blob"), "very-secret-2") {
		t.Fatalf("update: %v", up)
	}
	got := tc.must(200, "GET", "/v3/credentials/"+id, tc.adminToken, nil)
	if str(got, "credential", "blob") != str(up, "credential", "blob") || str(got, "credential", "color") != "blue" {
		t.Fatalf("get after update: %v", got)
	}

	cert := tc.must(201, "POST", "/v3/credentials", tc.adminToken, map[string]any{"credential": map[string]any{
		"user_id": tc.adminID, "type": "cert", "blob": "-----BEGIN CERT-----"}})
	if got := cert["credential"].(map[string]any)["project_id"]; got != nil {
		t.Fatalf("project_id of a credential without one: %v", got)
	}
	for q, want := range map[string]int{"": 2, "?type=ec2": 1, "?type=cert": 1, "?user_id=" + tc.adminID: 2, "?user_id=nobody": 0} {
		list := tc.must(200, "GET", "/v3/credentials"+q, tc.adminToken, nil)
		if n := len(list["credentials"].([]any)); n != want {
			t.Fatalf("list%s: %d credentials, want %d", q, n, want)
		}
	}

	tc.must(204, "DELETE", "/v3/credentials/"+id, tc.adminToken, nil)
	tc.must(404, "GET", "/v3/credentials/"+id, tc.adminToken, nil)
	tc.must(404, "DELETE", "/v3/credentials/"+id, tc.adminToken, nil)
	tc.must(404, "PATCH", "/v3/credentials/"+id, tc.adminToken, map[string]any{"credential": map[string]any{"blob": "x"}})
}

func TestCredentialBadInput(t *testing.T) {
	tc := newTestCloud(t)
	base := func(kv ...any) map[string]any {
		m := map[string]any{"user_id": tc.adminID, "project_id": tc.adminProj, "type": "ec2", "blob": ec2BlobFor("AK", "S")}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return map[string]any{"credential": m}
	}
	for name, body := range map[string]any{
		"no credential":   map[string]any{},
		"not an object":   map[string]any{"credential": "x"},
		"no blob":         base("blob", nil),
		"no type":         base("type", nil),
		"no user":         base("user_id", nil),
		"ec2 no project":  base("project_id", nil),
		"blob not string": base("blob", map[string]any{"access": "a"}),
		"blob not json":   base("blob", "{not json"),
		"blob no access":  base("blob", `{"secret": "s"}`),
		"blob empty":      base("blob", `{}`),
		"user not string": base("user_id", 42),
	} {
		if status, out, _ := tc.do("POST", "/v3/credentials", tc.adminToken, body); status != 400 {
			t.Errorf("%s: status %d, want 400: %v", name, status, out)
		}
	}
	tc.must(201, "POST", "/v3/credentials", tc.adminToken, base())
	tc.must(409, "POST", "/v3/credentials", tc.adminToken, base())
	id := ec2CredentialID("AK")
	tc.must(400, "PATCH", "/v3/credentials/"+id, tc.adminToken, map[string]any{"credential": map[string]any{}})
	tc.must(400, "PATCH", "/v3/credentials/"+id, tc.adminToken, map[string]any{"credential": map[string]any{"project_id": nil}})
	tc.must(400, "PATCH", "/v3/credentials/"+id, tc.adminToken, map[string]any{"credential": map[string]any{"blob": `{"secret": "s"}`}})
	tc.must(400, "PATCH", "/v3/credentials/"+id, tc.adminToken, map[string]any{"credential": map[string]any{"id": "other"}})
	// The delegation an EC2 blob records cannot be added or changed.
	tc.must(400, "PATCH", "/v3/credentials/"+id, tc.adminToken, map[string]any{"credential": map[string]any{"blob": `{"access": "AK", "trust_id": "t"}`}})
}

func TestCredentialOwnership(t *testing.T) {
	tc := newTestCloud(t)
	alice, aliceTok := credTestUser(tc, "alice", tc.adminProj, "member")
	bob, bobTok := credTestUser(tc, "bob", tc.adminProj, "member")

	mine := tc.must(201, "POST", "/v3/credentials", aliceTok, map[string]any{"credential": map[string]any{"user_id": alice, "type": "totp", "blob": "seed-a"}})
	id := str(mine, "credential", "id")
	tc.must(403, "POST", "/v3/credentials", aliceTok, map[string]any{"credential": map[string]any{"user_id": bob, "type": "totp", "blob": "seed-b"}})
	tc.must(201, "POST", "/v3/credentials", bobTok, map[string]any{"credential": map[string]any{"user_id": bob, "type": "totp", "blob": "seed-b"}})

	// Each sees only their own; the admin sees both.
	for tok, want := range map[string]int{aliceTok: 1, bobTok: 1, tc.adminToken: 2} {
		if n := len(tc.must(200, "GET", "/v3/credentials", tok, nil)["credentials"].([]any)); n != want {
			t.Fatalf("list: %d credentials, want %d", n, want)
		}
	}
	tc.must(403, "GET", "/v3/credentials/"+id, bobTok, nil)
	tc.must(403, "DELETE", "/v3/credentials/"+id, bobTok, nil)
	tc.must(403, "GET", "/v3/credentials/no-such-credential", bobTok, nil)
	// Giving a credential away is checked against the credential as it
	// would be.
	tc.must(403, "PATCH", "/v3/credentials/"+id, aliceTok, map[string]any{"credential": map[string]any{"user_id": bob}})
	tc.must(200, "PATCH", "/v3/credentials/"+id, aliceTok, map[string]any{"credential": map[string]any{"blob": "seed-a2"}})
	tc.must(204, "DELETE", "/v3/credentials/"+id, aliceTok, nil)
}

func TestCredentialDelegatedTokenCannotRetarget(t *testing.T) {
	tc := newTestCloud(t)
	bob, _ := credTestUser(tc, "bob", tc.adminProj, "member")
	theirs := str(tc.must(201, "POST", "/v3/credentials", tc.adminToken, map[string]any{"credential": map[string]any{
		"user_id": bob, "project_id": tc.adminProj, "type": "ec2", "blob": ec2BlobFor("BOB", "s")}}), "credential", "id")

	// An application credential of the admin carries the admin role, and
	// admin_required passes; the delegation still may not touch bob's
	// credential nor hand one over.
	ac := tc.must(201, "POST", "/v3/users/"+tc.adminID+"/application_credentials", tc.adminToken, map[string]any{
		"application_credential": map[string]any{"name": "ops", "secret": "ops-secret"}})
	acTok, _ := appCredAuth(t, tc, map[string]any{"id": str(ac, "application_credential", "id"), "secret": "ops-secret"})
	tc.must(403, "PATCH", "/v3/credentials/"+theirs, acTok, map[string]any{"credential": map[string]any{"blob": ec2BlobFor("BOB", "stolen")}})
	tc.must(403, "POST", "/v3/credentials", acTok, map[string]any{"credential": map[string]any{
		"user_id": bob, "project_id": tc.adminProj, "type": "ec2", "blob": ec2BlobFor("PLANTED", "s")}})
	tc.must(403, "POST", "/v3/users/"+bob+"/credentials/OS-EC2", acTok, map[string]any{"tenant_id": tc.adminProj})
	tc.must(201, "POST", "/v3/users/"+bob+"/credentials/OS-EC2", tc.adminToken, map[string]any{"tenant_id": tc.adminProj})

	own := tc.must(201, "POST", "/v3/credentials", acTok, map[string]any{"credential": map[string]any{
		"user_id": tc.adminID, "project_id": tc.adminProj, "type": "ec2", "blob": ec2BlobFor("MINE", "s")}})
	ownID := str(own, "credential", "id")
	// The blob records the application credential it was made with.
	if !strings.Contains(str(own, "credential", "blob"), str(ac, "application_credential", "id")) {
		t.Fatalf("ec2 blob without app_cred_id: %v", own)
	}
	tc.must(403, "PATCH", "/v3/credentials/"+ownID, acTok, map[string]any{"credential": map[string]any{"user_id": bob}})
	// Its own blob it may rotate, keeping the recorded delegation.
	var blob map[string]any
	_ = json.Unmarshal([]byte(str(own, "credential", "blob")), &blob)
	blob["secret"] = "rotated"
	nb, _ := json.Marshal(blob)
	tc.must(200, "PATCH", "/v3/credentials/"+ownID, acTok, map[string]any{"credential": map[string]any{"blob": string(nb)}})
	// The admin's own token may still do anything.
	tc.must(200, "PATCH", "/v3/credentials/"+theirs, tc.adminToken, map[string]any{"credential": map[string]any{"blob": ec2BlobFor("BOB", "new")}})
}

func TestEC2Credentials(t *testing.T) {
	tc := newTestCloud(t)
	alice, aliceTok := credTestUser(tc, "alice", tc.adminProj, "member")
	bob, bobTok := credTestUser(tc, "bob", tc.adminProj, "member")
	base := "/v3/users/" + alice + "/credentials/OS-EC2"

	c1 := tc.must(201, "POST", base, aliceTok, map[string]any{"tenant_id": tc.adminProj})["credential"].(map[string]any)
	if c1["user_id"] != alice || c1["tenant_id"] != tc.adminProj || c1["access"] == "" || c1["secret"] == "" || c1["trust_id"] != nil {
		t.Fatalf("create: %v", c1)
	}
	access := c1["access"].(string)
	tc.must(201, "POST", base, aliceTok, map[string]any{"tenant_id": tc.adminProj})
	if n := len(tc.must(200, "GET", base, aliceTok, nil)["credentials"].([]any)); n != 2 {
		t.Fatalf("list: %d", n)
	}
	got := tc.must(200, "GET", base+"/"+access, aliceTok, nil)["credential"].(map[string]any)
	for _, k := range []string{"access", "secret", "user_id", "tenant_id"} {
		if got[k] != c1[k] {
			t.Fatalf("show %s: %v, want %v", k, got[k], c1[k])
		}
	}
	// Also a /v3/credentials credential of type ec2, found by hashed key.
	if cr := tc.must(200, "GET", "/v3/credentials/"+ec2CredentialID(access), aliceTok, nil); str(cr, "credential", "type") != "ec2" {
		t.Fatalf("v3 view: %v", cr)
	}

	tc.must(403, "GET", base, bobTok, nil)
	tc.must(403, "POST", base, bobTok, map[string]any{"tenant_id": tc.adminProj})
	tc.must(403, "GET", base+"/"+access, bobTok, nil)
	tc.must(404, "GET", "/v3/users/"+bob+"/credentials/OS-EC2/"+access, tc.adminToken, nil)
	tc.must(404, "POST", base, aliceTok, map[string]any{"tenant_id": "no-such-project"})
	tc.must(404, "POST", base, aliceTok, map[string]any{})
	tc.must(404, "GET", "/v3/users/no-such-user/credentials/OS-EC2", tc.adminToken, nil)

	tc.must(204, "DELETE", base+"/"+access, aliceTok, nil)
	tc.must(404, "GET", base+"/"+access, aliceTok, nil)
	tc.must(404, "DELETE", base+"/"+access, aliceTok, nil)
}
