package objserver

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
)

// Updater retries the container updates saved as async pending files, as
// Swift's object-updater.
type Updater struct {
	s *Store
}

// NewUpdater works on the store's devices.
func NewUpdater(s *Store) *Updater { return &Updater{s: s} }

// UpdaterStats counts one pass.
type UpdaterStats struct {
	Successes, Failures int
}

// RunOnce sends every pending update once; a success removes its file,
// a failure keeps it for the next pass.
func (u *Updater) RunOnce(ctx context.Context) (UpdaterStats, error) {
	var st UpdaterStats
	devs, err := u.s.devices()
	if err != nil {
		return st, err
	}
	for _, dev := range devs {
		root := u.s.asyncDir(dev)
		sfxs, err := os.ReadDir(root)
		if err != nil {
			continue // no async_pending on this device
		}
		for _, sfx := range sfxs {
			dir := filepath.Join(root, sfx.Name())
			files, err := os.ReadDir(dir)
			if err != nil {
				continue
			}
			for _, f := range files {
				if err := ctx.Err(); err != nil {
					return st, err
				}
				path := filepath.Join(dir, f.Name())
				b, err := os.ReadFile(path)
				var pu pendingUpdate
				if err != nil || json.Unmarshal(b, &pu) != nil {
					st.Failures++
					continue
				}
				if err := u.s.sendUpdate(ctx, pu); err != nil {
					st.Failures++
					continue
				}
				if err := os.Remove(path); err == nil {
					st.Successes++
				}
			}
			_ = os.Remove(dir) // only succeeds once empty
		}
	}
	return st, nil
}

// pendingCount is the number of async pending files, for recon and tests.
func (s *Store) pendingCount() int {
	n := 0
	devs, _ := s.devices()
	for _, dev := range devs {
		sfxs, _ := os.ReadDir(s.asyncDir(dev))
		for _, sfx := range sfxs {
			files, _ := os.ReadDir(filepath.Join(s.asyncDir(dev), sfx.Name()))
			n += len(files)
		}
	}
	return n
}
