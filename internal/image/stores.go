package image

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// StoreConfig is one image store (Glance's enabled_backends entry, with
// its filesystem_store_datadir or swift_store_container, and
// store_description).
type StoreConfig struct {
	ID string
	// Type is "file" ("" too) or "swift" (Config.ObjectStore holds the data).
	Type string
	// Dir is where the data lives (file) or is spooled (swift); "" means
	// DataDir/images for "local", DataDir/images-<id> otherwise.
	Dir         string
	Container   string // swift: the container, "" means "glance"
	Description string
	Default     bool // Glance's default_backend; the first store when none is
}

// defaultStoreID is the store of a data dir without configured stores;
// migration 0004 records the images stored before stores existed in it.
const defaultStoreID = "local"

// fsStore is a configured store: image data lives in Dir/<image id>, or
// for a swift store in object <image id> of Container (swift not nil),
// spooled and checked in Dir first.
type fsStore struct {
	StoreConfig
	swift ObjectStore
}

func (st *fsStore) path(id string) string { return filepath.Join(st.Dir, id) }

// stores are the service's stores, in configuration order (Glance lists
// enabled_backends in its order).
type stores struct {
	list  []*fsStore
	deflt *fsStore
	multi bool // stores were configured: the multi-store API is on
}

// newStores resolves the configured stores; none configured is one store
// "local" at DataDir/images (kumo's layout before stores), multi off.
func newStores(dataDir string, cfg []StoreConfig, obj ObjectStore) (*stores, error) {
	ss := &stores{multi: len(cfg) > 0}
	if len(cfg) == 0 {
		cfg = []StoreConfig{{ID: defaultStoreID}}
	}
	def := 0
	for i, c := range cfg {
		if c.ID == "" || strings.HasPrefix(c.ID, "os_glance_") || strings.ContainsAny(c.ID, "/,") {
			return nil, fmt.Errorf("image: store id %q is not allowed", c.ID)
		}
		if slices.ContainsFunc(ss.list, func(o *fsStore) bool { return o.ID == c.ID }) {
			return nil, fmt.Errorf("image: store %q is configured twice", c.ID)
		}
		if c.Dir == "" {
			c.Dir = filepath.Join(dataDir, "images")
			if c.ID != defaultStoreID {
				c.Dir += "-" + c.ID
			}
		}
		if c.Default {
			if ss.list != nil && ss.list[def].Default {
				return nil, fmt.Errorf("image: stores %q and %q are both the default", ss.list[def].ID, c.ID)
			}
			def = i
		}
		if err := os.MkdirAll(c.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("image: store %s: %w", c.ID, err)
		}
		st := &fsStore{StoreConfig: c}
		switch c.Type {
		case "", "file":
			st.Type = "file"
		case "swift":
			if obj == nil {
				return nil, fmt.Errorf("image: store %s is of type swift but there is no object store", c.ID)
			}
			if st.Container == "" {
				st.Container = "glance"
			}
			st.swift = obj
		default:
			return nil, fmt.Errorf("image: store %s: unknown type %q", c.ID, c.Type)
		}
		ss.list = append(ss.list, st)
	}
	ss.deflt = ss.list[def]
	ss.deflt.Default = true
	return ss, nil
}

func (ss *stores) def() *fsStore { return ss.deflt }

// get returns the store with id, nil when there is none.
func (ss *stores) get(id string) *fsStore {
	for _, st := range ss.list {
		if st.ID == id {
			return st
		}
	}
	return nil
}

// ids lists the store ids.
func (ss *stores) ids() []string {
	out := make([]string, 0, len(ss.list))
	for _, st := range ss.list {
		out = append(out, st.ID)
	}
	return out
}

// removeData removes an image's data from every store: a deleted image
// leaves nothing behind, wherever it was copied. Temporary files belong
// to the writer still at work, which removes its own (start-up removes
// those of a crash).
func (s *Service) removeData(id string) {
	for _, st := range s.stores.list {
		if err := st.remove(context.Background(), id); err != nil {
			s.log.Warn("image: removing image data", "image", id, "store", st.ID, "err", err)
		}
	}
}

// openData opens length bytes from start of an image's data in the first
// of its stores (the default first) that has it. For a file store the
// reader is an io.LimitedReader of the *os.File (sendfile can send it).
func (s *Service) openData(ctx context.Context, im *Image, start, length int64) (io.Reader, io.Closer, error) {
	var firstErr error
	order := append([]*fsStore{s.stores.deflt}, s.stores.list...)
	for _, st := range order {
		if !slices.Contains(im.Stores, st.ID) {
			continue
		}
		r, c, err := st.open(ctx, im.ID, start, length)
		if err == nil {
			return r, c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = os.ErrNotExist
	}
	return nil, nil, firstErr
}

// storesProp is the image view's "stores": its stores, sorted, comma
// separated.
func storesProp(ids []string) string {
	s := slices.Clone(ids)
	slices.Sort(s)
	return strings.Join(s, ",")
}
