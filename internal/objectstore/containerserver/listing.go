package containerserver

import (
	"context"
	"strings"
)

// Listing limits, Swift's CONTAINER_LISTING_LIMIT and ACCOUNT_LISTING_LIMIT.
const (
	ListingLimit = 10000
)

// ListParams are a GET's listing query parameters.
type ListParams struct {
	// Limit caps the entries: 0 means ListingLimit, and a negative value
	// an empty listing (what Swift answers to ?limit=0).
	Limit     int
	Marker    string
	EndMarker string
	Prefix    string
	Delimiter string
	// Path, when set, lists only the names directly under a pseudo-folder.
	Path    *string
	Reverse bool
}

// smallBatch is the first batch size of a delimiter listing.
const smallBatch = 16

// Entry is one listing line: an object (or container) or, with a
// delimiter, a pseudo-folder in Subdir.
type Entry[T any] struct {
	Item   T
	Name   string
	Subdir string
}

// bounds is a scan range: lower < name (or lower <= name when inclusive)
// and name < upper; empty bounds are open.
type bounds struct {
	lower     string
	inclusive bool
	upper     string
}

// rangeQuery passes to yield, one at a time, up to limit live rows within b
// whose names start with prefix, in name order or in reverse; it stops
// early when yield returns false.
type rangeQuery[T any] func(ctx context.Context, b bounds, prefix string, reverse bool, limit int, yield func(T) bool) error

// walkListing runs Swift's listing walk: a range scan that, on meeting a name
// with the delimiter after the prefix, emits the pseudo-folder and jumps the
// scan past everything under it, so a folder with a million objects costs
// one row. rows is how many live rows the database holds: a whole listing's
// entries are then one allocation, not a doubling slice (at 10,000 entries
// the copies and fresh pages of the doublings took a quarter of its time).
func walkListing[T any](ctx context.Context, p ListParams, rows int64, nameOf func(T) string, q rangeQuery[T]) ([]Entry[T], error) {
	limit := p.Limit
	if limit < 0 {
		return nil, nil
	}
	if limit == 0 || limit > ListingLimit {
		limit = ListingLimit
	}
	prefix, delim := p.Prefix, p.Delimiter
	path := ""
	pathMode := p.Path != nil
	if pathMode {
		prefix = *p.Path
		if prefix != "" {
			prefix = strings.TrimRight(prefix, "/") + "/"
		}
		path, delim = prefix, "/"
	}
	b := bounds{lower: p.Marker, upper: p.EndMarker}
	if p.Reverse {
		b.lower, b.upper = p.EndMarker, p.Marker
	}
	var out []Entry[T]
	if delim == "" && prefix == "" && p.Marker == "" && p.EndMarker == "" {
		out = make([]Entry[T], 0, min(int64(limit), max(rows, 0)))
	}
	// With a delimiter the next row may start a folder that ends the batch,
	// so batches start small and grow only while no folder interrupts them.
	batch := smallBatch
	// Each pass either consumes rows or moves a bound strictly; the bound on
	// passes is a guard against a bug turning into a hang.
	for pass := 0; len(out) < limit && pass < 4*ListingLimit+16; pass++ {
		want := limit - len(out)
		if delim != "" {
			want = min(want, batch)
		}
		n, last, jumped := 0, "", false
		err := q(ctx, b, prefix, p.Reverse, want, func(r T) bool {
			n++
			name := nameOf(r)
			last = name
			if delim == "" {
				out = append(out, Entry[T]{Item: r, Name: name})
				return true
			}
			end := strings.Index(name[len(prefix):], delim)
			if end >= 0 {
				end += len(prefix)
			}
			if pathMode {
				if name == path {
					return true
				}
				if end >= 0 && len(name) > end+len(delim) {
					// Skip the deeper names but not the folder's own
					// marker object ("a/b/"), a direct child of the path;
					// names hold no NUL, so dir+NUL bounds just above it.
					dir := name[:end+len(delim)]
					if p.Reverse {
						dir += "\x00"
					}
					b = skipFolder(dir, p.Reverse, b)
					jumped = true
					return false
				}
				out = append(out, Entry[T]{Item: r, Name: name})
			} else if end >= 0 {
				dir := name[:end+len(delim)]
				b = skipFolder(dir, p.Reverse, b)
				if dir != p.Marker {
					out = append(out, Entry[T]{Name: dir, Subdir: dir})
				}
				jumped = true
				return false
			} else {
				out = append(out, Entry[T]{Item: r, Name: name})
			}
			return len(out) < limit
		})
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		if jumped {
			batch = smallBatch
			continue
		}
		batch = min(batch*4, ListingLimit)
		if n < want {
			break
		}
		if p.Reverse {
			b.upper = last
		} else {
			b.lower, b.inclusive = last, false
		}
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// skipFolder moves the scan bound past every name under dir.
func skipFolder(dir string, reverse bool, b bounds) bounds {
	if reverse {
		b.upper = dir
		return b
	}
	b.lower, b.inclusive = afterPrefix(dir), true
	return b
}

// afterPrefix is the smallest string greater than every string that starts
// with p: p with its last byte incremented ("" when there is none).
func afterPrefix(p string) string {
	b := []byte(p)
	for len(b) > 0 && b[len(b)-1] == 0xff {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return ""
	}
	b[len(b)-1]++
	return string(b)
}

// rangeSQL builds the WHERE conditions for a scan of column name.
func rangeSQL(b bounds, prefix string) (string, []any) {
	var conds []string
	var args []any
	if b.lower != "" {
		op := " > ?"
		if b.inclusive {
			op = " >= ?"
		}
		conds = append(conds, "name"+op)
		args = append(args, b.lower)
	}
	if b.upper != "" {
		conds = append(conds, "name < ?")
		args = append(args, b.upper)
	}
	if prefix != "" {
		conds = append(conds, "name >= ?")
		args = append(args, prefix)
		if up := afterPrefix(prefix); up != "" {
			conds = append(conds, "name < ?")
			args = append(args, up)
		}
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " AND " + strings.Join(conds, " AND "), args
}
