package identity

import (
	"context"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"kumo/internal/platform/httpapi"
)

// Password rules of Keystone's [security_compliance] section. Every rule is
// off when its option is zero; lockout lives in checkPassword (auth.go).

// checkPasswordRegex applies password_regex as Python's re.match does:
// anchored at the start only.
func (s *Service) checkPasswordRegex(pw *string) error {
	if s.pwRegex == nil {
		return nil
	}
	if pw == nil {
		return httpapi.BadRequest("Password validation error: Password must be a string type.")
	}
	if loc := s.pwRegex.FindStringIndex(*pw); loc == nil || loc[0] != 0 {
		return httpapi.BadRequest("The password does not match the requirements: %s.", s.cfg.Security.PasswordRegexDescription)
	}
	return nil
}

// newPasswordRecord hashes pw as u's next password. A nil pw records "no
// password". The password expires after password_expires_days unless the
// user ignores expiry; one set by an admin (not selfService) is expired at
// once under change_password_upon_first_use, so the user must change it.
func (s *Service) newPasswordRecord(u *User, pw *string, selfService bool) (*PasswordRecord, error) {
	now := time.Now().UTC()
	rec := &PasswordRecord{CreatedAt: now, SelfService: selfService}
	if pw == nil {
		return rec, nil
	}
	hash, err := s.hashPassword(*pw)
	if err != nil {
		return nil, err
	}
	rec.Hash = hash
	sec := s.cfg.Security
	if sec.PasswordExpiresDays > 0 && !optionTrue(u.Options, "ignore_password_expiry") {
		rec.ExpiresAt = now.AddDate(0, 0, sec.PasswordExpiresDays).Truncate(time.Second)
	}
	if !selfService && sec.ChangePasswordUponFirstUse && !optionTrue(u.Options, "ignore_change_password_upon_first_use") {
		rec.ExpiresAt = now
	}
	return rec, nil
}

// passwordHistoryKept is how many passwords (the current one included) a
// user keeps for the unique_last_password_count check.
func (s *Service) passwordHistoryKept() int {
	return max(s.cfg.Security.UniqueLastPasswordCount, 1)
}

// changePassword is POST /v3/users/{user_id}/password: the self-service
// change, proven by the original password rather than by policy.
func changePassword(c *call) error {
	body, err := c.body()
	if err != nil {
		return err
	}
	um, err := object(body, "user")
	if err != nil {
		return err
	}
	for k := range um {
		if k != "password" && k != "original_password" {
			return invalid("user", "Additional properties are not allowed ('%s' was unexpected)", k)
		}
	}
	var orig, pw string
	for key, dst := range map[string]*string{"original_password": &orig, "password": &pw} {
		v, ok := um[key]
		if !ok {
			return httpapi.BadRequest("Invalid input for field '%s': '%s' is a required property", key, key)
		}
		s, isStr := v.(string)
		if !isStr {
			return invalid(key, "%s is not of type 'string'", pyRepr(v))
		}
		*dst = s
	}
	id := c.param("user_id")
	m := &passwordMethod{User: &struct {
		nameOrID
		Password *string `json:"password"`
	}{nameOrID: nameOrID{ID: id}, Password: &orig}}
	// The original password authenticates as a login would (lockout and
	// failure counting included), except that an expired one is accepted:
	// changing it is the way out of expiry.
	if _, err := c.s.checkPassword(c.ctx, m); err != nil && !isPasswordExpired(err) {
		return err
	}
	u, err := c.s.loadUser(c.ctx, id)
	if err != nil {
		return err
	}
	if err := c.s.checkPasswordRegex(&pw); err != nil {
		return err
	}
	if err := c.s.checkSelfServiceChange(c.ctx, u, pw); err != nil {
		return err
	}
	rec, err := c.s.newPasswordRecord(u, &pw, true)
	if err != nil {
		return err
	}
	if err := c.s.store.UpdateUser(c.ctx, u, rec, c.s.passwordHistoryKept()); err != nil {
		return err
	}
	if err := c.s.Revoke(c.ctx, RevocationEvent{UserID: u.ID}); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// checkSelfServiceChange applies lock_password, minimum_password_age and
// unique_last_password_count to a user changing their own password.
func (s *Service) checkSelfServiceChange(ctx context.Context, u *User, pw string) error {
	if optionTrue(u.Options, "lock_password") {
		return httpapi.BadRequest("You cannot change your password at this time due to password policy disallowing password changes. Please contact your administrator to reset your password.")
	}
	sec := s.cfg.Security
	history, err := s.store.Passwords(ctx, u.ID)
	if err != nil {
		return err
	}
	if days := sec.MinimumPasswordAgeDays; days > 0 && len(history) > 0 && history[0].SelfService {
		minAge := history[0].CreatedAt.AddDate(0, 0, days)
		if now := time.Now(); now.Before(minAge) {
			left := int(minAge.Sub(now).Hours() / 24)
			return httpapi.BadRequest("You cannot change your password at this time due to the minimum password age. Once you change your password, it must be used for %d day(s) before it can be changed. Please try again in %d day(s) or contact your administrator to reset your password.", days, left)
		}
	}
	if n := sec.UniqueLastPasswordCount; n > 0 {
		for _, old := range history[:min(n, len(history))] {
			if old.Hash != "" && bcrypt.CompareHashAndPassword([]byte(old.Hash), truncatePassword(pw)) == nil {
				return httpapi.BadRequest("The new password cannot be identical to a previous password. The total number which includes the new password must be unique is %d.", n)
			}
		}
	}
	return nil
}

// isPasswordExpired reports whether err is checkPassword's refusal of an
// expired (but otherwise correct) password.
func isPasswordExpired(err error) bool {
	e, ok := httpapi.AsError(err)
	return ok && e.Status == http.StatusUnauthorized && strings.HasPrefix(e.Message, "The password is expired")
}
