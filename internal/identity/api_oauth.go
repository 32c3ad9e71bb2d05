package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"time"

	"kumo/internal/platform/httpapi"
)

// Keystone's [oauth1] request_token_duration and access_token_duration.
const (
	requestTokenDuration = 8 * time.Hour
	accessTokenDuration  = 24 * time.Hour
)

// oauthRoutes is OS-OAUTH1: consumers, the three-legged token flow, and the
// access tokens a user has authorized. The request and access token doors
// take no Keystone token: the consumer's OAuth signature authenticates them.
// Deleting an access token is guarded by identity:ec2_delete_credential, as
// in Keystone.
var oauthRoutes = []route{
	{pattern: "POST /v3/OS-OAUTH1/consumers", action: "identity:create_consumer", handle: createConsumer},
	{pattern: "GET /v3/OS-OAUTH1/consumers", action: "identity:list_consumers", handle: listConsumers},
	{pattern: "GET /v3/OS-OAUTH1/consumers/{consumer_id}", action: "identity:get_consumer", handle: getConsumer},
	{pattern: "PATCH /v3/OS-OAUTH1/consumers/{consumer_id}", action: "identity:update_consumer", handle: updateConsumer},
	{pattern: "DELETE /v3/OS-OAUTH1/consumers/{consumer_id}", action: "identity:delete_consumer", handle: deleteConsumer},
	{pattern: "POST /v3/OS-OAUTH1/request_token", handle: createRequestToken},
	{pattern: "PUT /v3/OS-OAUTH1/authorize/{request_token_id}", action: "identity:authorize_request_token", handle: authorizeRequestToken},
	{pattern: "POST /v3/OS-OAUTH1/access_token", handle: createAccessToken},
	{pattern: "GET /v3/users/{user_id}/OS-OAUTH1/access_tokens", action: "identity:list_access_tokens", handle: listAccessTokens},
	{pattern: "GET /v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id}", action: "identity:get_access_token", handle: getAccessToken},
	{pattern: "DELETE /v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id}", action: "identity:ec2_delete_credential", handle: deleteAccessToken},
	{pattern: "GET /v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id}/roles", action: "identity:list_access_token_roles", handle: listAccessTokenRoles},
	{pattern: "GET /v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id}/roles/{role_id}", action: "identity:get_access_token_role", handle: getAccessTokenRole},
}

// consumerKnownFields are not stored as a consumer's extra attributes.
var consumerKnownFields = []string{"id", "description", "secret", "links"}

func (c *call) consumerJSON(co *Consumer) map[string]any {
	out := map[string]any{"id": co.ID, "description": nullIfEmpty(co.Description), "links": c.self("OS-OAUTH1/consumers/" + co.ID)}
	return mergeExtra(out, co.Extra)
}

// loadConsumer returns a consumer or Keystone's 404.
func (c *call) loadConsumer(id string) (*Consumer, error) {
	co, err := c.s.store.GetConsumer(c.ctx, id)
	if errors.Is(err, errNotFound) {
		return nil, httpapi.NotFound("Could not find consumer: %s.", id)
	}
	return co, err
}

// consumerBody reads the optional "consumer" object of a request.
func consumerBody(c *call) (map[string]any, error) {
	body, err := c.body()
	if err != nil {
		return nil, err
	}
	if _, ok := body["consumer"]; !ok {
		return map[string]any{}, nil
	}
	return object(body, "consumer")
}

func createConsumer(c *call) error {
	cm, err := consumerBody(c)
	if err != nil {
		return err
	}
	co := &Consumer{ID: newID(), Secret: newID(), Extra: extras(cm, consumerKnownFields...)}
	if co.Description, _, err = optString(cm, "description", 255, true); err != nil {
		return err
	}
	if err := c.s.store.CreateConsumer(c.ctx, co); err != nil {
		return err
	}
	out := c.consumerJSON(co)
	out["secret"] = co.Secret // shown this once only
	return c.json(http.StatusCreated, map[string]any{"consumer": out})
}

func listConsumers(c *call) error {
	cs, err := c.s.store.ListConsumers(c.ctx)
	if err != nil {
		return err
	}
	out := []any{}
	for _, co := range cs {
		out = append(out, c.consumerJSON(co))
	}
	return c.json(http.StatusOK, map[string]any{"consumers": out, "links": c.listLinks()})
}

func getConsumer(c *call) error {
	co, err := c.loadConsumer(c.param("consumer_id"))
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"consumer": c.consumerJSON(co)})
}

func updateConsumer(c *call) error {
	cm, err := consumerBody(c)
	if err != nil {
		return err
	}
	if len(cm) == 0 {
		return httpapi.BadRequest("Invalid input for field 'consumer': {} does not have enough properties")
	}
	if _, ok := cm["secret"]; ok {
		return httpapi.BadRequest("Invalid input for field 'secret': the consumer secret cannot be changed.")
	}
	if id, ok := cm["id"]; ok && id != c.param("consumer_id") {
		return httpapi.BadRequest("Cannot change consumer ID.")
	}
	co, err := c.loadConsumer(c.param("consumer_id"))
	if err != nil {
		return err
	}
	if v, ok, err := optString(cm, "description", 255, true); err != nil {
		return err
	} else if ok {
		co.Description = v
	}
	for k, v := range extras(cm, consumerKnownFields...) {
		co.Extra[k] = v
	}
	if err := c.s.store.UpdateConsumer(c.ctx, co); err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"consumer": c.consumerJSON(co)})
}

func deleteConsumer(c *call) error {
	id := c.param("consumer_id")
	gone, err := c.s.store.DeleteConsumer(c.ctx, id)
	if errors.Is(err, errNotFound) {
		return httpapi.NotFound("Could not find consumer: %s.", id)
	}
	if err != nil {
		return err
	}
	for _, at := range gone {
		if err := c.s.Revoke(c.ctx, RevocationEvent{ConsumerID: id, AccessTokenID: at}); err != nil {
			return err
		}
	}
	return c.noContent()
}

// oauthHeader reads the OAuth protocol parameters of the request.
func oauthHeader(c *call) (map[string]string, error) {
	h, err := parseOAuthHeader(c.r.Header.Get("Authorization"))
	if err != nil {
		return nil, httpapi.Unauthorized("The request you have made requires authentication: %v.", err)
	}
	return h, nil
}

func missingOAuth(what string) error {
	return httpapi.BadRequest("Expecting to find %s in request. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.", what)
}

// formEncoded answers an OAuth token response.
func formEncoded(c *call, v url.Values) error {
	c.w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
	c.w.WriteHeader(http.StatusCreated)
	_, err := c.w.Write([]byte(v.Encode()))
	return err
}

// oauthExpiry formats an OAuth token's expiry as Keystone does.
func oauthExpiry(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return isoTime(t)
}

func createRequestToken(c *call) error {
	h, err := oauthHeader(c)
	if err != nil {
		return err
	}
	if h["oauth_consumer_key"] == "" {
		return missingOAuth("oauth_consumer_key")
	}
	projectID := c.r.Header.Get("Requested-Project-Id")
	if projectID == "" {
		return missingOAuth("Requested-Project-Id")
	}
	p, err := c.s.loadProject(c.ctx, projectID)
	if err != nil {
		return err
	}
	if p.IsDomain {
		return httpapi.NotFound("Could not find project: %s.", projectID)
	}
	co, err := c.loadConsumer(h["oauth_consumer_key"])
	if err != nil {
		return err
	}
	if !oauthVerify(c.r, c.oauthURLs(), h, oauthForm(c.r), co.Secret, "") {
		return httpapi.Unauthorized("Invalid signature.")
	}
	rt := &RequestToken{ID: newID(), Secret: newID(), ConsumerID: co.ID, ProjectID: p.ID, ExpiresAt: time.Now().Add(requestTokenDuration).UTC()}
	if err := c.s.store.CreateRequestToken(c.ctx, rt); err != nil {
		return err
	}
	return formEncoded(c, url.Values{"oauth_token": {rt.ID}, "oauth_token_secret": {rt.Secret}, "oauth_expires_at": {isoTime(rt.ExpiresAt)}})
}

// verifierChars are the characters of a verifier: letters and digits
// without the easily confused ones, as Keystone's.
const verifierChars = "abcdefghkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

func newVerifier() string {
	b := make([]byte, 8)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(verifierChars))))
		b[i] = verifierChars[n.Int64()]
	}
	return string(b)
}

// delegatedAuth reports whether the caller's token was itself obtained by
// delegation (a trust or OAuth); such a token may not delegate further.
func (c *call) delegatedAuth() bool {
	return c.tok.TrustID != "" || slices.Contains(c.tok.Methods, "oauth1")
}

func authorizeRequestToken(c *call) error {
	body, err := c.body()
	if err != nil {
		return err
	}
	refs, err := delegatedRoleRefs(body, "roles")
	if err != nil {
		return err
	}
	if c.delegatedAuth() {
		return httpapi.Forbidden("Cannot authorize a request token with a token issued via delegation.")
	}
	id := c.param("request_token_id")
	rt, err := c.s.store.GetRequestToken(c.ctx, id)
	if errors.Is(err, errNotFound) {
		return httpapi.NotFound("Could not find request token: %s.", id)
	}
	if err != nil {
		return err
	}
	if !rt.ExpiresAt.IsZero() && time.Now().After(rt.ExpiresAt) {
		return httpapi.Unauthorized("Request token is expired.")
	}
	if rt.AuthorizingUserID != "" {
		return httpapi.Unauthorized("Request token %s is already authorized.", id)
	}
	roleIDs, err := c.delegatedRoleIDs(refs)
	if err != nil {
		return err
	}
	have, err := c.s.EffectiveRoles(c.ctx, c.tok.UserID, Scope{ProjectID: rt.ProjectID})
	if err != nil {
		return err
	}
	for _, want := range roleIDs {
		if !slices.ContainsFunc(have, func(r *Role) bool { return r.ID == want }) {
			return httpapi.Unauthorized("authorizing user does not have role required")
		}
	}
	verifier := newVerifier()
	if err := c.s.store.AuthorizeRequestToken(c.ctx, id, c.tok.UserID, nonNil(roleIDs), verifier); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.Unauthorized("Request token %s is already authorized.", id)
		}
		return err
	}
	return c.json(http.StatusOK, map[string]any{"token": map[string]any{"oauth_verifier": verifier}})
}

func createAccessToken(c *call) error {
	h, err := oauthHeader(c)
	if err != nil {
		return err
	}
	for _, k := range []string{"oauth_consumer_key", "oauth_token", "oauth_verifier"} {
		if h[k] == "" {
			return missingOAuth(k)
		}
	}
	rt, err := c.s.store.GetRequestToken(c.ctx, h["oauth_token"])
	if errors.Is(err, errNotFound) {
		return httpapi.NotFound("Could not find request token: %s.", h["oauth_token"])
	}
	if err != nil {
		return err
	}
	if !rt.ExpiresAt.IsZero() && time.Now().After(rt.ExpiresAt) {
		return httpapi.Unauthorized("Request token is expired.")
	}
	if rt.ConsumerID != h["oauth_consumer_key"] {
		return httpapi.Unauthorized("Provided consumer key does not match stored consumer key.")
	}
	co, err := c.s.store.GetConsumer(c.ctx, rt.ConsumerID)
	if errors.Is(err, errNotFound) {
		return httpapi.Unauthorized("Provided consumer does not exist.")
	}
	if err != nil {
		return err
	}
	if rt.Verifier == "" || subtle.ConstantTimeCompare([]byte(rt.Verifier), []byte(h["oauth_verifier"])) != 1 {
		return httpapi.Unauthorized("Provided verifier does not match stored verifier.")
	}
	if !oauthVerify(c.r, c.oauthURLs(), h, oauthForm(c.r), co.Secret, rt.Secret) {
		return httpapi.Unauthorized("Invalid signature.")
	}
	if rt.AuthorizingUserID == "" {
		return httpapi.Unauthorized("Request Token does not have an authorizing user id.")
	}
	at := &AccessToken{ID: newID(), Secret: newID(), ConsumerID: co.ID, AuthorizingUserID: rt.AuthorizingUserID,
		ProjectID: rt.ProjectID, RoleIDs: rt.RoleIDs, ExpiresAt: time.Now().Add(accessTokenDuration).UTC()}
	if err := c.s.store.ExchangeRequestToken(c.ctx, rt.ID, at); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.Unauthorized("Request token %s was already used.", rt.ID)
		}
		return err
	}
	return formEncoded(c, url.Values{"oauth_token": {at.ID}, "oauth_token_secret": {at.Secret}, "oauth_expires_at": {isoTime(at.ExpiresAt)}})
}

func (c *call) accessTokenJSON(at *AccessToken) map[string]any {
	base := "users/" + at.AuthorizingUserID + "/OS-OAUTH1/access_tokens/" + at.ID
	return map[string]any{
		"id": at.ID, "consumer_id": at.ConsumerID, "authorizing_user_id": at.AuthorizingUserID,
		"project_id": at.ProjectID, "expires_at": oauthExpiry(at.ExpiresAt),
		"links": map[string]any{"self": c.base() + "/v3/" + base, "roles": c.base() + "/v3/" + base + "/roles"},
	}
}

// userAccessToken loads the {access_token_id} of the path; one that another
// user authorized is not found under this user.
func (c *call) userAccessToken() (*AccessToken, error) {
	id := c.param("access_token_id")
	at, err := c.s.store.GetAccessToken(c.ctx, id)
	if err == nil && at.AuthorizingUserID != c.param("user_id") {
		err = errNotFound
	}
	if errors.Is(err, errNotFound) {
		return nil, httpapi.NotFound("Could not find access token: %s.", id)
	}
	return at, err
}

func listAccessTokens(c *call) error {
	if c.delegatedAuth() {
		return httpapi.Forbidden("Cannot list request tokens with a token issued via delegation.")
	}
	ats, err := c.s.store.ListAccessTokens(c.ctx, c.param("user_id"))
	if err != nil {
		return err
	}
	out := []any{}
	for _, at := range ats {
		out = append(out, c.accessTokenJSON(at))
	}
	return c.json(http.StatusOK, map[string]any{"access_tokens": out, "links": c.listLinks()})
}

func getAccessToken(c *call) error {
	at, err := c.userAccessToken()
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"access_token": c.accessTokenJSON(at)})
}

func deleteAccessToken(c *call) error {
	at, err := c.userAccessToken()
	if err != nil {
		return err
	}
	if err := c.s.store.DeleteAccessToken(c.ctx, at.ID); err != nil && !errors.Is(err, errNotFound) {
		return err
	}
	if err := c.s.Revoke(c.ctx, RevocationEvent{ConsumerID: at.ConsumerID, AccessTokenID: at.ID}); err != nil {
		return err
	}
	return c.noContent()
}

// accessTokenRoleJSON renders a delegated role as Keystone lists them under
// an access token: without its description.
func (c *call) accessTokenRoleJSON(r *Role) map[string]any {
	out := c.roleJSON(r)
	delete(out, "description")
	return out
}

func listAccessTokenRoles(c *call) error {
	at, err := c.userAccessToken()
	if err != nil {
		return err
	}
	out := []any{}
	for _, id := range at.RoleIDs {
		if r, err := c.s.store.GetRole(c.ctx, id); err == nil {
			out = append(out, c.accessTokenRoleJSON(r))
		}
	}
	return c.json(http.StatusOK, map[string]any{"roles": out, "links": c.listLinks()})
}

func getAccessTokenRole(c *call) error {
	at, err := c.userAccessToken()
	if err != nil {
		return err
	}
	id := c.param("role_id")
	if !slices.Contains(at.RoleIDs, id) {
		return httpapi.NotFound("Could not find role: %s.", id)
	}
	r, err := c.s.store.GetRole(c.ctx, id)
	if errors.Is(err, errNotFound) {
		return httpapi.NotFound("Could not find role: %s.", id)
	}
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"role": c.accessTokenRoleJSON(r)})
}
