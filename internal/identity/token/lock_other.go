//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package token

// lockDir is a no-op where flock(2) is unavailable; rotations there must not
// run concurrently.
func lockDir(dir string) (unlock func(), err error) { return func() {}, nil }
