package proxy

import (
	"net/http"
	"slices"
	"strings"

	"kumo/internal/platform/httpapi"
)

// access levels a caller can hold on an account, lowest first.
type access int

const (
	accessNone access = iota
	accessRead
	accessReadWrite
	accessOwner
)

// authenticate validates the token, if any, and decides the caller's
// account-wide access. An invalid token makes the caller anonymous (Swift's
// delay_auth_decision), so public containers still work.
func (s *Server) authenticate(rq *req) bool {
	raw := rq.r.Header.Get("X-Auth-Token")
	if raw == "" {
		raw = rq.r.Header.Get("X-Storage-Token")
	}
	if raw == "" {
		return true
	}
	tok, err := s.cfg.Validator.ValidateToken(rq.r.Context(), raw)
	if err != nil {
		if _, ok := httpapi.AsError(err); ok {
			return true // an invalid token: the caller is anonymous
		}
		s.log.Error("token validation failed", "err", err)
		rq.fail(http.StatusInternalServerError, "")
		return false
	}
	rq.token = tok
	rq.owner = s.isOwner(rq)
	return true
}

// isOwner: a reseller admin, or an operator of the account's project.
func (s *Server) isOwner(rq *req) bool {
	t := rq.token
	if t == nil {
		return false
	}
	if t.HasRole(s.cfg.ResellerAdminRole) {
		return true
	}
	return s.ownProject(rq) && slices.ContainsFunc(s.cfg.OperatorRoles, t.HasRole)
}

func (s *Server) ownProject(rq *req) bool {
	pid, ok := strings.CutPrefix(rq.account, resellerPrefix)
	return ok && rq.token != nil && rq.token.ProjectID != "" && rq.token.ProjectID == pid
}

// accountAccess is the caller's level from roles and the account ACL;
// acl is the account's stored X-Account-Access-Control ("" if none).
func (s *Server) accountAccess(rq *req, acl string) access {
	if rq.owner {
		return accessOwner
	}
	if rq.token == nil {
		return accessNone
	}
	level := accessNone
	if s.ownProject(rq) && slices.ContainsFunc(s.cfg.ReaderRoles, rq.token.HasRole) {
		level = accessRead
	}
	if acl == "" {
		return level
	}
	a, err := parseAccountACL(acl)
	if err != nil {
		return level
	}
	ids := s.identities(rq)
	match := func(list []string) bool {
		return slices.ContainsFunc(list, func(e string) bool { return slices.Contains(ids, e) })
	}
	switch {
	case match(a.Admin):
		return accessOwner
	case match(a.ReadWrite):
		return max(level, accessReadWrite)
	case match(a.ReadOnly):
		return max(level, accessRead)
	}
	return level
}

// identities are the ACL entries that name the caller, in the forms
// keystoneauth accepts: project:user by id or by name, with wildcards.
func (s *Server) identities(rq *req) []string {
	t := rq.token
	if t == nil {
		return nil
	}
	ids := []string{
		t.ProjectID + ":" + t.UserID, t.ProjectID + ":*", "*:" + t.UserID, "*:*", t.UserID,
	}
	if t.ProjectName != "" && t.UserName != "" {
		ids = append(ids, t.ProjectName+":"+t.UserName, t.ProjectName+":*", "*:"+t.UserName)
	}
	return ids
}

// containerACLAllows tells whether a container ACL entry names the caller.
func (s *Server) containerACLAllows(rq *req, a containerACL) bool {
	ids := s.identities(rq)
	return slices.ContainsFunc(a.groups, func(g string) bool { return slices.Contains(ids, g) })
}

// deny answers 401 to an anonymous caller (or one whose token failed) and
// 403 to a known one.
func (s *Server) deny(rq *req) {
	if rq.token == nil {
		if s.cfg.IdentityURL != "" {
			rq.w.Header().Set("Www-Authenticate", "Keystone uri='"+s.cfg.IdentityURL+"'")
		}
		rq.fail(http.StatusUnauthorized, "")
		return
	}
	rq.fail(http.StatusForbidden, "")
}

// level is the caller's account-wide access, reading the account ACL at
// most once per request.
func (s *Server) level(rq *req) access {
	if !rq.levelKnown {
		rq.levelVal = s.accountAccess(rq, s.accountACL(rq))
		rq.levelKnown = true
	}
	return rq.levelVal
}
