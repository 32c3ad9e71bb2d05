package objserver

// expiringRef locates an object the Expirer must watch.
type expiringRef struct{ dev, part, hash string }

// noteExpiring tells the Expirer about an object that may carry an
// X-Delete-At (a PUT or POST with one, or a replicated file), so that it
// is found before the next full walk.
func (s *Store) noteExpiring(dev, part, hash string) {
	s.expiring.Store(s.hashDir(dev, part, hash), expiringRef{dev: dev, part: part, hash: hash})
}
