package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"

	"kumo/internal/platform/httpapi"
)

// credentialRoutes are /v3/credentials and the OS-EC2 view of the EC2
// credentials among them (/v3/users/{user_id}/credentials/OS-EC2).
var credentialRoutes = []route{
	{pattern: "POST /v3/credentials", action: "identity:create_credential", target: newCredentialTarget, handle: createCredential},
	{pattern: "GET /v3/credentials", action: "identity:list_credentials", target: listCredentialsTarget, handle: listCredentials},
	{pattern: "GET /v3/credentials/{credential_id}", action: "identity:get_credential", target: credentialTarget, handle: getCredential},
	{pattern: "PATCH /v3/credentials/{credential_id}", action: "identity:update_credential", target: credentialTarget, handle: updateCredential},
	{pattern: "DELETE /v3/credentials/{credential_id}", action: "identity:delete_credential", target: credentialTarget, handle: deleteCredential},

	{pattern: "POST /v3/users/{user_id}/credentials/OS-EC2", action: "identity:ec2_create_credential", target: newEC2Target, handle: createEC2Credential},
	{pattern: "GET /v3/users/{user_id}/credentials/OS-EC2", action: "identity:ec2_list_credentials", handle: listEC2Credentials},
	{pattern: "GET /v3/users/{user_id}/credentials/OS-EC2/{credential_id}", action: "identity:ec2_get_credential", target: ec2Target, handle: getEC2Credential},
	{pattern: "DELETE /v3/users/{user_id}/credentials/OS-EC2/{credential_id}", action: "identity:ec2_delete_credential", target: ec2Target, handle: deleteEC2Credential},
}

// credentialTypeEC2 is the type of EC2 credentials: their id is the SHA-256
// of the access key, so the OS-EC2 API finds them by access key.
const credentialTypeEC2 = "ec2"

// credentialKnown are the attributes of a credential that are not extras.
var credentialKnown = []string{"id", "user_id", "project_id", "type", "blob", "links"}

// ec2CredentialID is Keystone's utils.hash_access_key.
func ec2CredentialID(access string) string {
	sum := sha256.Sum256([]byte(access))
	return hex.EncodeToString(sum[:])
}

// credential loads a credential with its blob opened, or errNotFound.
func (s *Service) credential(ctx context.Context, id string) (*Credential, error) {
	cr, err := s.store.GetCredential(ctx, id)
	if err != nil {
		return nil, err
	}
	if cr.Blob, err = s.openBlob(cr.Blob); err != nil {
		return nil, err
	}
	return cr, nil
}

// saveCredential seals cr's blob and creates or updates the row; cr keeps
// its plaintext blob.
func (s *Service) saveCredential(ctx context.Context, cr *Credential, create bool) error {
	sealed := *cr
	var err error
	if sealed.Blob, sealed.KeyHash, err = s.sealBlob(cr.Blob); err != nil {
		return err
	}
	if create {
		err = s.store.CreateCredential(ctx, &sealed)
	} else {
		err = s.store.UpdateCredential(ctx, &sealed)
	}
	if isUnique(err) {
		return httpapi.Conflict("Conflict occurred attempting to store credential - Duplicate ID, %s.", cr.ID)
	}
	return err
}

func credentialPolicyTarget(cr *Credential) map[string]any {
	return map[string]any{"target": map[string]any{"credential": map[string]any{
		"id": cr.ID, "user_id": cr.UserID, "project_id": nullIfEmpty(cr.ProjectID), "type": cr.Type}}}
}

// credentialTarget loads {credential_id}. A missing credential leaves the
// target empty, as Keystone does: only an admin passes, then gets the 404.
func credentialTarget(c *call) (map[string]any, error) {
	cr, err := c.s.credential(c.ctx, c.param("credential_id"))
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.loaded = cr
	return credentialPolicyTarget(cr), nil
}

// loadedCredential returns the credential credentialTarget loaded, or 404.
func (c *call) loadedCredential() (*Credential, error) {
	cr, _ := c.loaded.(*Credential)
	if cr == nil {
		return nil, httpapi.NotFound("Could not find credential: %s.", c.param("credential_id"))
	}
	return cr, nil
}

func (c *call) credentialJSON(cr *Credential) map[string]any {
	out := map[string]any{"id": cr.ID, "user_id": cr.UserID, "project_id": nullIfEmpty(cr.ProjectID), "type": cr.Type,
		"blob": cr.Blob, "links": c.self("credentials/" + cr.ID)}
	return mergeExtra(out, cr.Extra)
}

// newCredentialTarget decodes the body: create_credential is checked
// against the credential as sent.
func newCredentialTarget(c *call) (map[string]any, error) {
	body, err := c.body()
	if err != nil {
		return nil, err
	}
	cm, err := object(body, "credential")
	if err != nil {
		return nil, err
	}
	c.input = cm
	return map[string]any{"target": map[string]any{"credential": cm}}, nil
}

func credString(m map[string]any, key string) (string, error) {
	v, ok, err := optString(m, key, 0, false)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", httpapi.BadRequest("Invalid input for field '%s': '%s' is a required property", key, key)
	}
	return v, nil
}

// ec2Blob parses an EC2 credential's blob: a JSON object with an access key.
func ec2Blob(blob string) (map[string]any, error) {
	var v any
	if err := json.Unmarshal([]byte(blob), &v); err != nil {
		return nil, httpapi.BadRequest("Invalid blob in credential.")
	}
	m, _ := v.(map[string]any)
	if len(m) == 0 {
		return nil, httpapi.BadRequest("Expecting to find blob in credential. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	if m["access"] == nil {
		return nil, httpapi.BadRequest("Expecting to find access in credential. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	if _, ok := m["access"].(string); !ok {
		return nil, invalid("blob", "the access key must be a string")
	}
	return m, nil
}

func createCredential(c *call) error {
	cm := c.input
	cr := &Credential{}
	var err error
	if cr.UserID, err = credString(cm, "user_id"); err != nil {
		return err
	}
	if cr.Type, err = credString(cm, "type"); err != nil {
		return err
	}
	if cr.Blob, err = credString(cm, "blob"); err != nil {
		return err
	}
	if cr.ProjectID, _, err = optString(cm, "project_id", 0, false); err != nil {
		return err
	}
	if cr.Type == credentialTypeEC2 && cr.ProjectID == "" {
		return httpapi.BadRequest("Invalid input for field 'project_id': 'project_id' is a required property for a credential of type ec2")
	}
	cr.Extra = extras(cm, credentialKnown...)
	if c.delegatedToken() && cr.UserID != c.tok.UserID {
		return errDelegatedRetarget()
	}
	if strings.EqualFold(cr.Type, credentialTypeEC2) {
		blob, err := ec2Blob(cr.Blob)
		if err != nil {
			return err
		}
		cr.ID = ec2CredentialID(blob["access"].(string))
		// A credential made with a delegated token carries the delegation,
		// so that EC2 authentication with it yields an equally limited token.
		if c.delegatedToken() {
			if c.tok.TrustID != "" {
				blob["trust_id"] = c.tok.TrustID
			}
			if c.tok.AppCredID != "" {
				blob["app_cred_id"] = c.tok.AppCredID
			}
			b, _ := json.Marshal(blob)
			cr.Blob = string(b)
		}
	} else {
		cr.ID = newID()
	}
	if err := c.s.saveCredential(c.ctx, cr, true); err != nil {
		return err
	}
	return c.json(http.StatusCreated, map[string]any{"credential": c.credentialJSON(cr)})
}

func listCredentialsTarget(c *call) (map[string]any, error) {
	if c.tok.System != "" {
		return nil, nil
	}
	return map[string]any{"target": map[string]any{"credential": map[string]any{"user_id": c.tok.UserID}}}, nil
}

func listCredentials(c *call) error {
	crs, err := c.s.store.ListCredentials(c.ctx, CredentialFilter{UserID: c.query("user_id"), Type: c.query("type")})
	if err != nil {
		return err
	}
	list := []any{}
	for _, cr := range crs {
		// Each credential passes get_credential on its own, so a project
		// member sees only their own.
		if !c.allowed("identity:get_credential", credentialPolicyTarget(cr)) {
			continue
		}
		if cr.Blob, err = c.s.openBlob(cr.Blob); err != nil {
			return err
		}
		list = append(list, c.credentialJSON(cr))
	}
	return c.json(http.StatusOK, map[string]any{"credentials": list, "links": c.listLinks()})
}

func getCredential(c *call) error {
	cr, err := c.loadedCredential()
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"credential": c.credentialJSON(cr)})
}

// ec2ScopeKeys are the blob keys that tie an EC2 credential to a
// delegation; an update may not change or drop them (Keystone's fix for
// OSSA-2020-005).
var ec2ScopeKeys = []string{"trust_id", "app_cred_id", "access_token_id", "access_id"}

func updateCredential(c *call) error {
	cur, err := c.loadedCredential()
	if err != nil {
		return err
	}
	body, err := c.body()
	if err != nil {
		return err
	}
	cm, err := object(body, "credential")
	if err != nil {
		return err
	}
	if len(cm) == 0 {
		return httpapi.BadRequest("Invalid input for field 'credential': {} does not have enough properties")
	}
	if v, ok := cm["id"]; ok && v != cur.ID {
		return httpapi.BadRequest("Cannot change ID.")
	}
	next := *cur
	next.Extra = map[string]any{}
	for k, v := range cur.Extra {
		next.Extra[k] = v
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"user_id", &next.UserID}, {"type", &next.Type}, {"blob", &next.Blob}} {
		if v, ok, err := optString(cm, f.key, 0, false); err != nil {
			return err
		} else if ok {
			*f.dst = v
		}
	}
	if v, ok, err := optString(cm, "project_id", 0, true); err != nil {
		return err
	} else if ok {
		next.ProjectID = v
	}
	for k, v := range extras(cm, credentialKnown...) {
		next.Extra[k] = v
	}
	if next.Type == credentialTypeEC2 && next.ProjectID == "" {
		return httpapi.BadRequest("Expecting to find project_id in credential. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	if _, ok := cm["blob"]; ok && strings.EqualFold(next.Type, credentialTypeEC2) {
		nb, err := ec2Blob(next.Blob)
		if err != nil {
			return err
		}
		if strings.EqualFold(cur.Type, credentialTypeEC2) {
			var ob map[string]any
			_ = json.Unmarshal([]byte(cur.Blob), &ob)
			for _, k := range ec2ScopeKeys {
				if !reflect.DeepEqual(ob[k], nb[k]) {
					return httpapi.BadRequest("%s can not be updated for credential", k)
				}
			}
		}
	}
	// The caller must be allowed to hold the credential as it will be, not
	// only as it is: a user may not hand a credential to someone else.
	if err := c.authorize("identity:update_credential", credentialPolicyTarget(&next)); err != nil {
		return err
	}
	if err := c.checkDelegatedRetarget(cur, &next); err != nil {
		return err
	}
	if err := c.s.saveCredential(c.ctx, &next, false); err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"credential": c.credentialJSON(&next)})
}

// checkDelegatedRetarget refuses a trust- or application-credential token
// that updates a credential of another user, gives one away, or moves one
// to a project other than its own: whatever roles a delegation carries
// (even admin), it must not re-target secrets. Creating credentials for
// another user is refused to such tokens for the same reason. Debian's Keystone refuses
// any change but the blob for the same reason; kumo accepts the PATCH
// Tempest sends and only refuses what a delegation could abuse.
func (c *call) checkDelegatedRetarget(cur, next *Credential) error {
	if !c.delegatedToken() {
		return nil
	}
	movesProject := next.ProjectID != cur.ProjectID && next.ProjectID != c.tok.ProjectID
	if cur.UserID != c.tok.UserID || next.UserID != c.tok.UserID || movesProject {
		return errDelegatedRetarget()
	}
	return nil
}

func errDelegatedRetarget() error {
	return httpapi.Forbidden("You are not authorized to perform the requested action: a trust- or application-credential-scoped token cannot re-target a credential.")
}

// delegatedToken reports whether the caller's token is a trust- or
// application-credential-scoped one.
func (c *call) delegatedToken() bool { return c.tok.TrustID != "" || c.tok.AppCredID != "" }

func deleteCredential(c *call) error {
	cr, err := c.loadedCredential()
	if err != nil {
		return err
	}
	if err := c.s.store.DeleteCredential(c.ctx, cr.ID); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Could not find credential: %s.", cr.ID)
		}
		return err
	}
	return c.noContent()
}

// OS-EC2: the EC2 credentials of a user, shown by access key.

func newEC2Target(c *call) (map[string]any, error) {
	return map[string]any{"target": map[string]any{"credential": map[string]any{"user_id": c.param("user_id")}}}, nil
}

// ec2Target loads the credential of the {credential_id} access key. An
// unknown key is a 404 before the policy check, as in Keystone.
func ec2Target(c *call) (map[string]any, error) {
	id := ec2CredentialID(c.param("credential_id"))
	cr, err := c.s.credential(c.ctx, id)
	if errors.Is(err, errNotFound) {
		return nil, httpapi.NotFound("Could not find credential: %s.", id)
	}
	if err != nil {
		return nil, err
	}
	c.loaded = cr
	return credentialPolicyTarget(cr), nil
}

// pathUser checks that the {user_id} of the path exists.
func (c *call) userOfPath() (*User, error) {
	u, err := c.s.user(c.ctx, c.param("user_id"))
	if errors.Is(err, errNotFound) {
		return nil, httpapi.NotFound("Could not find user: %s.", c.param("user_id"))
	}
	return u, err
}

func (c *call) ec2JSON(cr *Credential) map[string]any {
	var blob map[string]any
	_ = json.Unmarshal([]byte(cr.Blob), &blob)
	access, _ := blob["access"].(string)
	return map[string]any{"user_id": cr.UserID, "tenant_id": nullIfEmpty(cr.ProjectID), "access": access,
		"secret": blob["secret"], "trust_id": blob["trust_id"],
		"links": c.self("users/" + cr.UserID + "/credentials/OS-EC2/" + access)}
}

// loadedEC2 returns the EC2 credential ec2Target loaded, checking that it is
// one and that it belongs to the path's user.
func (c *call) loadedEC2() (*Credential, error) {
	if _, err := c.userOfPath(); err != nil {
		return nil, err
	}
	cr := c.loaded.(*Credential)
	if cr.Type != credentialTypeEC2 {
		return nil, httpapi.Unauthorized("EC2 access key not found.")
	}
	if cr.UserID != c.param("user_id") {
		return nil, httpapi.NotFound("Could not find credential: %s.", cr.ID)
	}
	return cr, nil
}

func createEC2Credential(c *call) error {
	u, err := c.userOfPath()
	if err != nil {
		return err
	}
	if c.delegatedToken() && u.ID != c.tok.UserID {
		return errDelegatedRetarget()
	}
	body, err := c.body()
	if err != nil {
		return err
	}
	tenant, _, err := optString(body, "tenant_id", 64, true)
	if err != nil {
		return err
	}
	if p, err := c.s.project(c.ctx, tenant); err != nil || p.IsDomain {
		if err != nil && !errors.Is(err, errNotFound) {
			return err
		}
		return httpapi.NotFound("Could not find project: %s.", tenant)
	}
	blob := map[string]any{"access": newID(), "secret": newID(), "trust_id": nullIfEmpty(c.tok.TrustID)}
	if c.tok.AppCredID != "" {
		blob["app_cred_id"] = c.tok.AppCredID
	}
	raw, _ := json.Marshal(blob)
	cr := &Credential{ID: ec2CredentialID(blob["access"].(string)), UserID: u.ID, ProjectID: tenant, Type: credentialTypeEC2, Blob: string(raw)}
	if err := c.s.saveCredential(c.ctx, cr, true); err != nil {
		return err
	}
	return c.json(http.StatusCreated, map[string]any{"credential": c.ec2JSON(cr)})
}

func listEC2Credentials(c *call) error {
	u, err := c.userOfPath()
	if err != nil {
		return err
	}
	crs, err := c.s.store.ListCredentials(c.ctx, CredentialFilter{UserID: u.ID, Type: credentialTypeEC2})
	if err != nil {
		return err
	}
	list := []any{}
	for _, cr := range crs {
		if cr.Blob, err = c.s.openBlob(cr.Blob); err != nil {
			return err
		}
		list = append(list, c.ec2JSON(cr))
	}
	return c.json(http.StatusOK, map[string]any{"credentials": list, "links": c.listLinks()})
}

func getEC2Credential(c *call) error {
	cr, err := c.loadedEC2()
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"credential": c.ec2JSON(cr)})
}

func deleteEC2Credential(c *call) error {
	cr, err := c.loadedEC2()
	if err != nil {
		return err
	}
	if err := c.s.store.DeleteCredential(c.ctx, cr.ID); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Could not find credential: %s.", cr.ID)
		}
		return err
	}
	return c.noContent()
}
