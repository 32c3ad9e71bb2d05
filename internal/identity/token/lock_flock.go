//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package token

import (
	"fmt"
	"os"
	"syscall"
)

// lockDir takes an exclusive advisory lock on the key directory itself, so
// that two concurrent rotations (a cron job and an operator) cannot both
// promote the same staged key. No lock file is left in the repository.
func lockDir(dir string) (unlock func(), err error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX); err != nil {
		d.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() { d.Close() }, nil // closing releases the lock
}
