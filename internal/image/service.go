// Package image is kumo's Glance: the Image v2 API (images, data upload
// and download, sharing through members, tags, schemas) over local-disk
// storage. api.go lists every route and the rule that guards it.
package image

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"kumo/internal/platform/authn"
	"kumo/internal/platform/db"
	"kumo/internal/platform/policy"
)

// Config is the image service's configuration.
type Config struct {
	DataDir    string // image data lives in DataDir/images/<id>
	PolicyFile string // optional oslo.policy YAML/JSON overrides
	// MaxImageSize is Glance's image_size_cap: larger uploads get 413.
	// Default 1 TiB, as Glance.
	MaxImageSize int64
	// IdentityURL is put in WWW-Authenticate on 401 answers.
	IdentityURL string
	// PublicURL, when set, is the image endpoint used in version documents;
	// otherwise the request's Host is used.
	PublicURL string
	// Limits, when set, enforces Keystone unified limits registered for
	// service type "image" (quota.go), as Glance's use_keystone_limits;
	// nil means no quotas. In `kumo up` it is the identity service.
	Limits LimitReader
	// LimitRegion is the region whose limits apply (region-less limits
	// apply too).
	LimitRegion string
	// Stores are the filesystem stores (stores.go), as Glance's
	// enabled_backends. None: one store "local" at DataDir/images and
	// the multi-store API off.
	Stores []StoreConfig
	// ObjectStore holds the data of the stores of type "swift" (kumo's
	// object store, on the image service's own account); nil: none.
	ObjectStore ObjectStore
}

func (c *Config) setDefaults() {
	if c.MaxImageSize == 0 {
		c.MaxImageSize = 1 << 40
	}
}

// Service is the image service: domain rules over Store and the data dir.
type Service struct {
	cfg       Config
	store     *Store
	policy    *policy.Enforcer
	validator authn.Validator
	log       *slog.Logger
	stores    *stores
	now       func() time.Time
	uploads   inflight  // upload bytes in flight per project (quota.go)
	imports   importers // imports running in the background (api_import.go)
	// testHook, when set (tests only), is called at named points between a
	// request's read and its write, to replay a race in a fixed order.
	testHook func(point string)
}

// at calls the test hook, if any, at a named point.
func (s *Service) at(point string) {
	if s.testHook != nil {
		s.testHook(point)
	}
}

// New opens the image service on an already-open database: it applies the
// migrations, loads the policy, creates the data directory and repairs what
// a crash may have left (uploads in progress go back to queued, and their
// temporary files are removed). v validates X-Auth-Token; in `kumo up` it
// is the identity service.
func New(ctx context.Context, cfg Config, d *db.DB, v authn.Validator, log *slog.Logger) (*Service, error) {
	cfg.setDefaults()
	if cfg.DataDir == "" {
		return nil, fmt.Errorf("image: no data directory")
	}
	if log == nil {
		log = slog.Default()
	}
	if _, err := d.Migrate(ctx, "image", migrationsFS, "migrations"); err != nil {
		return nil, err
	}
	enf, err := policy.New(DefaultPolicies, cfg.PolicyFile)
	if err != nil {
		return nil, fmt.Errorf("image: policy: %w", err)
	}
	ss, err := newStores(cfg.DataDir, cfg.Stores, cfg.ObjectStore)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, store: &Store{db: d}, policy: enf, validator: v, log: log,
		stores: ss, now: func() time.Time { return time.Now().UTC() }}
	// Data in a store no longer configured could not be served: refuse
	// to start rather than lose track of it.
	used, err := s.store.storesInUse(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range used {
		if ss.get(id) == nil {
			return nil, fmt.Errorf("image: images are stored in store %q, which is not configured", id)
		}
	}
	if err := s.recover(ctx); err != nil {
		return nil, err
	}
	if err := s.startImports(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// recover puts images whose upload was cut by a crash back to queued and
// removes temporary files: an image is active only once its data file was
// fsynced and renamed into place.
func (s *Service) recover(ctx context.Context) error {
	ids, err := s.store.ImagesSaving(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		im, err := s.store.GetImage(ctx, id)
		if err != nil {
			continue
		}
		resetData(im)
		im.Status, im.UpdatedAt = statusQueued, s.now()
		if err := s.store.SaveData(ctx, im, statusSaving); err != nil && err != errStale && err != errNotFound {
			return err
		}
		// A crash between the rename and the database write leaves the
		// data in place; the image is queued again, so it goes.
		s.removeData(id)
	}
	for _, st := range s.stores.list {
		entries, err := os.ReadDir(st.Dir)
		if err != nil {
			return fmt.Errorf("image: store %s: %w", st.ID, err)
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".tmp") {
				_ = os.Remove(filepath.Join(st.Dir, e.Name()))
			}
		}
	}
	return nil
}

// Close stops the imports running in the background and waits for them;
// an import stopped this way is resumed by the next New on the same data.
func (s *Service) Close() { s.imports.stop() }

// Store returns the service's store (for tests).
func (s *Service) Store() *Store { return s.store }

// dataPath is where an image's data lives in the default store.
func (s *Service) dataPath(id string) string { return s.stores.def().path(id) }

// resetData forgets everything known about an image's data, as Glance does
// when an image goes back to queued.
func resetData(im *Image) {
	im.Size, im.VirtualSize, im.Checksum, im.OSHashAlgo, im.OSHashValue = nil, nil, nil, nil, nil
	im.HasData = false
}
