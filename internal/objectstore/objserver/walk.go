package objserver

import (
	"context"
	"os"
	"path/filepath"
)

// walkObjects calls fn for every object hash directory on every device.
// The walk is bounded by what the directories hold when it reads them.
func (s *Store) walkObjects(ctx context.Context, fn func(dev, part, hash, dir string)) error {
	devs, err := s.devices()
	if err != nil {
		return err
	}
	for _, dev := range devs {
		parts, _ := os.ReadDir(s.objectsDir(dev))
		for _, p := range parts {
			if !p.IsDir() || !validPartition(p.Name()) {
				continue
			}
			pdir := s.partDir(dev, p.Name())
			hashes, _ := os.ReadDir(pdir)
			for _, h := range hashes {
				if err := ctx.Err(); err != nil {
					return err
				}
				if h.IsDir() && isHash(h.Name()) {
					fn(dev, p.Name(), h.Name(), filepath.Join(pdir, h.Name()))
				}
			}
		}
	}
	return nil
}
