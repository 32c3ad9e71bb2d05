package compute

import (
	"errors"
	"net/http"
	"strings"

	"kumo/internal/platform/httpapi"
)

// Key pairs (nova/api/openstack/compute/keypairs.py). A key pair belongs
// to a user; from 2.10 an admin names another user with user_id (query
// parameter, or body on create). The rules' target is that user, so the
// handlers enforce them.
func init() {
	register(
		route{method: "GET", path: "/os-keypairs", query: keypairListQuery, handle: listKeypairs},
		route{method: "POST", path: "/os-keypairs", body: keypairCreateSchema, handle: createKeypair},
		route{method: "GET", path: "/os-keypairs/{keypair_name}", query: keypairUserQuery, handle: showKeypair},
		route{method: "DELETE", path: "/os-keypairs/{keypair_name}", query: keypairUserQuery, handle: deleteKeypair},
	)
}

func keypairUserQuery(mv Microversion) *Schema {
	s := &Schema{Type: Types("object")}
	if mv.AtLeast(2, 10) {
		s.Properties = []Prop{{"user_id", multi(&Schema{Type: Types("string")})}}
		s.NoAdditional = mv.AtLeast(2, 75)
	}
	return s
}

func keypairListQuery(mv Microversion) *Schema {
	s := keypairUserQuery(mv)
	if mv.AtLeast(2, 35) {
		s.Properties = append(s.Properties,
			Prop{"limit", multi(nonNegativeInt())},
			Prop{"marker", multi(&Schema{Type: Types("string")})})
	}
	return s
}

func keypairCreateSchema(mv Microversion) *Schema {
	name := &Schema{Type: Types("string"), MinLength: 1, MaxLength: 255, Format: "name"}
	format := "keypair_name_20"
	if mv.AtLeast(2, 92) {
		format = "keypair_name_292"
	}
	name.AllOf = []*Schema{{Type: Types("string"), MinLength: 1, MaxLength: 255, Format: format}}
	if !mv.AtLeast(2, 1) {
		// /v2: create_v20, any printable name (stripped on create).
		name = &Schema{Type: Types("string"), MinLength: 1, MaxLength: 255, Format: "name_with_spaces"}
	}
	props := []Prop{{"name", name}}
	if mv.AtLeast(2, 2) {
		props = append(props, Prop{"type", &Schema{Type: Types("string"), Enum: []any{"ssh", "x509"}}})
	}
	props = append(props, Prop{"public_key", &Schema{Type: Types("string")}})
	if mv.AtLeast(2, 10) {
		props = append(props, Prop{"user_id", &Schema{Type: Types("string")}})
	}
	required := []string{"name"}
	if mv.AtLeast(2, 92) {
		required = append(required, "public_key")
	}
	return &Schema{Type: Types("object"), Required: []string{"keypair"}, NoAdditional: true, Properties: []Prop{
		{"keypair", &Schema{Type: Types("object"), Properties: props, Required: required, NoAdditional: true}},
	}}
}

// keypairUser is the user a key pair call is about: from 2.10 the
// user_id query parameter (its first value, as Nova), else the caller.
func (c *call) keypairUser() string {
	if c.mv.AtLeast(2, 10) {
		if v := c.r.URL.Query()["user_id"]; len(v) > 0 {
			return v[0]
		}
	}
	return c.user()
}

func (c *call) keypairTarget(user string) map[string]any { return map[string]any{"user_id": user} }

func listKeypairs(c *call) error {
	user := c.keypairUser()
	if err := c.enforce("os_compute_api:os-keypairs:index", c.keypairTarget(user)); err != nil {
		return err
	}
	limit := -1
	var marker *string
	if c.mv.AtLeast(2, 35) {
		var err error
		if limit, marker, err = pagination(c.r.URL.Query()); err != nil {
			return err
		}
	}
	list, err := c.s.keypairs().list(c.ctx, user, limit, marker)
	if errors.Is(err, errNotFound) {
		return httpapi.BadRequest("Marker %s could not be found.", *marker)
	}
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, k := range list {
		m := map[string]any{"name": k.Name, "public_key": k.PublicKey, "fingerprint": k.Fingerprint}
		if c.mv.AtLeast(2, 2) {
			m["type"] = k.Type
		}
		out = append(out, map[string]any{"keypair": m})
	}
	body := map[string]any{"keypairs": out}
	if c.mv.AtLeast(2, 35) && limit > 0 && len(list) == limit {
		body["keypairs_links"] = c.nextLink("os-keypairs", list[len(list)-1].Name)
	}
	return c.json(http.StatusOK, body)
}

func showKeypair(c *call) error {
	user := c.keypairUser()
	if err := c.enforce("os_compute_api:os-keypairs:show", c.keypairTarget(user)); err != nil {
		return err
	}
	name := c.param("keypair_name")
	k, err := c.s.keypairs().get(c.ctx, user, name)
	if errors.Is(err, errNotFound) {
		return httpapi.NotFound("Keypair %s not found for user %s", name, user)
	}
	if err != nil {
		return err
	}
	m := map[string]any{"name": k.Name, "public_key": k.PublicKey, "fingerprint": k.Fingerprint, "user_id": k.UserID,
		"created_at": novaTime(k.CreatedAt), "deleted": false, "deleted_at": nil, "updated_at": nil, "id": k.ID}
	if c.mv.AtLeast(2, 2) {
		m["type"] = k.Type
	}
	return c.json(http.StatusOK, map[string]any{"keypair": m})
}

func deleteKeypair(c *call) error {
	user := c.keypairUser()
	if err := c.enforce("os_compute_api:os-keypairs:delete", c.keypairTarget(user)); err != nil {
		return err
	}
	name := c.param("keypair_name")
	if err := c.s.keypairs().delete(c.ctx, user, name); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Keypair %s not found for user %s", name, user)
		}
		return err
	}
	if c.mv.AtLeast(2, 2) {
		return c.empty(http.StatusNoContent)
	}
	return c.empty(http.StatusAccepted)
}

func createKeypair(c *call) error {
	in := c.obj("keypair")
	k := &KeyPair{Name: strings.TrimSpace(in["name"].(string)), Type: "ssh", UserID: c.user(), CreatedAt: c.s.now()}
	if t, ok := in["type"].(string); ok {
		k.Type = t
	}
	if u, ok := in["user_id"].(string); ok && u != "" {
		k.UserID = u
	}
	if err := c.enforce("os_compute_api:os-keypairs:create", c.keypairTarget(k.UserID)); err != nil {
		return err
	}
	limit, err := c.keypairLimit()
	if err != nil {
		return err
	}
	private := ""
	if pk, ok := in["public_key"].(string); ok {
		k.PublicKey = pk
		if k.Type == "x509" {
			k.Fingerprint, err = x509Fingerprint(pk)
		} else {
			k.Fingerprint, err = sshFingerprint(pk)
		}
		if err != nil {
			return httpapi.BadRequest("Keypair data is invalid: %v", err)
		}
	} else {
		if k.Type == "x509" {
			private, k.PublicKey, k.Fingerprint, err = generateX509(k.UserID)
		} else {
			private, k.PublicKey, k.Fingerprint, err = generateSSHKey()
		}
		if err != nil {
			return err
		}
	}
	switch err := c.s.keypairs().create(c.ctx, k, limit); {
	case errors.Is(err, errOverQuota):
		return httpapi.Forbidden("Quota exceeded, too many key pairs.")
	case errors.Is(err, errExists):
		return httpapi.Conflict("Key pair '%s' already exists.", k.Name)
	case err != nil:
		return err
	}
	m := map[string]any{"name": k.Name, "public_key": k.PublicKey, "fingerprint": k.Fingerprint, "user_id": k.UserID}
	if private != "" {
		m["private_key"] = private
	}
	status := http.StatusOK
	if c.mv.AtLeast(2, 2) {
		m["type"] = k.Type
		status = http.StatusCreated
	}
	return c.json(status, map[string]any{"keypair": m})
}

// keypairLimit is the caller's key pair quota, read as every other quota
// (quotaLimit: an unregistered limit is 0, no LimitReader is unlimited);
// -1 is unlimited.
func (c *call) keypairLimit() (int64, error) {
	return c.s.quotaLimit(c.ctx, c.project(), resKeyPairs)
}

func (s *Service) keypairs() keypairStore { return keypairStore{db: s.db} }
