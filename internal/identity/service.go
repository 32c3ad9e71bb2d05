// Package identity is kumo's Keystone: the Identity v3 API, fernet tokens,
// the service catalog, role assignments and the policy every other kumo
// service enforces. api.go lists every route and the rule that guards it.
package identity

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"time"

	"kumo/internal/identity/token"
	"kumo/internal/platform/db"
	"kumo/internal/platform/policy"
)

// Config is the identity service's configuration.
type Config struct {
	DataDir         string        // fernet keys live in DataDir/fernet-keys
	TokenExpiration time.Duration // default 1h, as Keystone
	BcryptCost      int           // default 12, as Keystone
	MaxActiveKeys   int           // fernet keys kept by rotation; default 3
	PolicyFile      string        // optional oslo.policy YAML/JSON overrides
	// AllowExpiredWindow is how long after expiry ?allow_expired=1 still
	// validates a token (Keystone's [token] allow_expired_window, 2 days).
	AllowExpiredWindow time.Duration
	Security           SecurityCompliance
}

// SecurityCompliance mirrors Keystone's [security_compliance] options; the
// zero value turns every one of them off, as Keystone's defaults do.
type SecurityCompliance struct {
	LockoutFailureAttempts         int
	LockoutDuration                time.Duration
	UniqueLastPasswordCount        int
	PasswordExpiresDays            int
	MinimumPasswordAgeDays         int
	PasswordRegex                  string
	PasswordRegexDescription       string
	ChangePasswordUponFirstUse     bool
	DisableUserAccountDaysInactive int
}

func (c *Config) setDefaults() {
	if c.TokenExpiration == 0 {
		c.TokenExpiration = time.Hour
	}
	if c.BcryptCost == 0 {
		c.BcryptCost = 12
	}
	if c.MaxActiveKeys == 0 {
		c.MaxActiveKeys = 3
	}
	if c.AllowExpiredWindow == 0 {
		c.AllowExpiredWindow = 48 * time.Hour
	}
}

// Service is the identity service: domain rules over Store.
type Service struct {
	cfg     Config
	store   *Store
	keys    *token.Repository
	policy  *policy.Enforcer
	pwRegex *regexp.Regexp
	log     *slog.Logger
	revoked *revocations
	cache   atomic.Pointer[cache] // replaced wholesale on every write
	// PublicURL, when set, is the identity endpoint used in links and
	// WWW-Authenticate; otherwise links use the request's Host.
	PublicURL string
	// credKeys encrypts credential blobs (credential_keys.go).
	credKeys *token.Repository
}

// New opens the identity service on an already-open database: it applies
// migrations, creates the fernet key repository if missing, loads the policy
// and the revocation list.
func New(ctx context.Context, cfg Config, d *db.DB, log *slog.Logger) (*Service, error) {
	cfg.setDefaults()
	if _, err := Migrate(ctx, d); err != nil {
		return nil, err
	}
	keyDir := filepath.Join(cfg.DataDir, "fernet-keys")
	if err := token.Setup(keyDir); err != nil {
		return nil, fmt.Errorf("identity: fernet keys: %w", err)
	}
	enf, err := policy.New(DefaultPolicies, cfg.PolicyFile)
	if err != nil {
		return nil, fmt.Errorf("identity: policy: %w", err)
	}
	keys, err := token.OpenRepository(keyDir)
	if err != nil {
		return nil, fmt.Errorf("identity: fernet keys: %w", err)
	}
	s := &Service{cfg: cfg, store: &Store{db: d}, keys: keys, policy: enf, log: log}
	if s.credKeys, err = openCredentialKeys(cfg.DataDir); err != nil {
		return nil, err
	}
	if cfg.Security.PasswordRegex != "" {
		if s.pwRegex, err = regexp.Compile(cfg.Security.PasswordRegex); err != nil {
			return nil, fmt.Errorf("identity: password regex: %w", err)
		}
	}
	if s.revoked, err = loadRevocations(ctx, s.store, cfg.TokenExpiration+cfg.AllowExpiredWindow); err != nil {
		return nil, err
	}
	s.cache.Store(newCache())
	return s, nil
}

// Store returns the service's store (for bootstrap and tests).
func (s *Service) Store() *Store { return s.store }

// Enforcer returns the policy engine, shared with other services in-process.
func (s *Service) Enforcer() *policy.Enforcer { return s.policy }

// RotateKeys performs a fernet key rotation (kumo admin fernet-rotate).
func RotateKeys(dataDir string, maxActive int) error {
	if maxActive == 0 {
		maxActive = 3
	}
	dir := filepath.Join(dataDir, "fernet-keys")
	// A data dir that never ran kumo up has no keys yet: set them up first.
	if err := token.Setup(dir); err != nil {
		return err
	}
	return token.Rotate(dir, maxActive)
}

// invalidate drops every cached derivation (roles, catalogs, names) after a
// write. Writes are rare next to validations, so the cache is simply rebuilt.
func (s *Service) invalidate() { s.cache.Store(newCache()) }

// Migrate applies the identity service's pending migrations to d and
// returns their names (kumo admin db-migrate; New applies them too).
func Migrate(ctx context.Context, d *db.DB) ([]string, error) {
	return d.Migrate(ctx, "identity", migrationsFS, "migrations")
}
