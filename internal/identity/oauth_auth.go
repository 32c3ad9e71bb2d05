package identity

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"kumo/internal/identity/token"
	"kumo/internal/platform/httpapi"
)

// The "oauth1" authentication method: a consumer signs POST /v3/auth/tokens
// with its secret and an access token's, and gets a token for the user who
// authorized the access token, on its project, with the delegated roles.

type signedRequestKey struct{}

// signedRequest is the HTTP request behind a token request, which the
// oauth1 method needs because its signature covers the method and URI.
type signedRequest struct {
	r    *http.Request
	urls []string // the URIs the client may have signed
}

// withSignedRequest returns the request's context carrying the request
// itself for the oauth1 method.
func (c *call) withSignedRequest() context.Context {
	return context.WithValue(c.ctx, signedRequestKey{}, &signedRequest{r: c.r, urls: c.oauthURLs()})
}

// oauthURLs returns the URIs a client may have signed for this request: the
// public endpoint's, and the scheme of that with the Host the request came
// with (Keystone checks the latter for request and access tokens).
func (c *call) oauthURLs() []string {
	path := c.r.URL.EscapedPath()
	urls := []string{c.base() + path}
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	if u, err := url.Parse(c.base()); err == nil && u.Scheme != "" {
		scheme = u.Scheme
	}
	if alt := scheme + "://" + c.r.Host + path; alt != urls[0] {
		urls = append(urls, alt)
	}
	return urls
}

// authOAuth1 authenticates the oauth1 method into p: the user, the access
// token and its project (which replaces any requested scope, as Keystone's).
func (s *Service) authOAuth1(ctx context.Context, p *token.Payload) error {
	sr, _ := ctx.Value(signedRequestKey{}).(*signedRequest)
	if sr == nil {
		return httpapi.Unauthorized("The oauth1 method needs a signed HTTP request.")
	}
	h, err := parseOAuthHeader(sr.r.Header.Get("Authorization"))
	if err != nil {
		return httpapi.Unauthorized("The request you have made requires authentication: %v.", err)
	}
	if h["oauth_token"] == "" {
		return httpapi.BadRequest("Expecting to find oauth_token in request. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	bad := httpapi.Unauthorized("Could not validate the access token.")
	at, err := s.store.GetAccessToken(ctx, h["oauth_token"])
	if err != nil {
		if errors.Is(err, errNotFound) {
			return bad
		}
		return err
	}
	if !at.ExpiresAt.IsZero() && time.Now().After(at.ExpiresAt) {
		return httpapi.Unauthorized("Access token is expired.")
	}
	if h["oauth_consumer_key"] != at.ConsumerID {
		return bad
	}
	consumer, err := s.store.GetConsumer(ctx, at.ConsumerID)
	if err != nil {
		if errors.Is(err, errNotFound) {
			return bad
		}
		return err
	}
	if !oauthVerify(sr.r, sr.urls, h, nil, consumer.Secret, at.Secret) {
		return bad
	}
	if err := sameUser(p, at.AuthorizingUserID); err != nil {
		return err
	}
	p.AccessTokenID, p.ProjectID = at.ID, at.ProjectID
	return nil
}

// resolveAccessToken re-checks the access token of an OAuth-scoped token:
// it must still exist (deleting it or its consumer voids the token), be
// unexpired and match the token's user and project.
func (s *Service) resolveAccessToken(ctx context.Context, td *tokenData) error {
	at, err := s.store.GetAccessToken(ctx, td.AccessTokenID)
	if err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.Unauthorized("Could not find access token: %s.", td.AccessTokenID)
		}
		return err
	}
	if !at.ExpiresAt.IsZero() && time.Now().After(at.ExpiresAt) {
		return httpapi.Unauthorized("Access token is expired.")
	}
	if at.AuthorizingUserID != td.User.ID || at.ProjectID != td.ProjectID {
		return httpapi.Unauthorized("Could not find access token: %s.", td.AccessTokenID)
	}
	td.AccessToken = at
	return nil
}
