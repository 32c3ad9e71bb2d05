package containerserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// PartitionPeers names the other replicas of a partition (the ring's
// primaries minus this device). Declared here, where it is used.
type PartitionPeers interface {
	Peers(kind Kind, device string, part int) ([]Node, error)
}

// Replicator makes this node's databases of one kind converge with their
// peers, as Swift's db replicator does: for each database and peer it
// exchanges stat and metadata, pushes the rows the peer has not merged yet
// and pulls the peer's rows it has not merged yet. Rows merge newest-wins,
// so no entry is lost and repeated runs are harmless.
type Replicator struct {
	store  *Store
	kind   Kind
	peers  PartitionPeers
	client *http.Client
	log    *slog.Logger

	// ReclaimAge is how long tombstones (deleted object or container rows)
	// are kept so every replica learns of the delete before the row goes;
	// Swift's reclaim_age, a week by default. Zero keeps them forever.
	ReclaimAge time.Duration
}

// DefaultReclaimAge is Swift's default reclaim_age.
const DefaultReclaimAge = 7 * 24 * time.Hour

// ReplicationStats counts one pass.
type ReplicationStats struct {
	Databases int // local databases examined
	Pushed    int // rows sent to peers
	Pulled    int // rows merged from peers (changed something here)
	Failures  int // database/peer pairs that failed
	Reclaimed int // tombstones older than ReclaimAge removed
}

// NewReplicator replicates the store's databases of kind with peers.
func NewReplicator(store *Store, kind Kind, peers PartitionPeers, client *http.Client, log *slog.Logger) *Replicator {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Replicator{store: store, kind: kind, peers: peers, client: client, log: log, ReclaimAge: DefaultReclaimAge}
}

// RunOnce replicates every local database of the replicator's kind once.
// A failure with one peer is counted and logged; the pass goes on.
func (r *Replicator) RunOnce(ctx context.Context) (ReplicationStats, error) {
	var st ReplicationStats
	paths, err := filepath.Glob(filepath.Join(r.store.root, "*", string(r.kind), "*", "*", "*", "*.db"))
	if err != nil {
		return st, err
	}
	for _, p := range paths {
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		rel, _ := filepath.Rel(r.store.root, p)
		f := strings.Split(filepath.ToSlash(rel), "/")
		// dev/kind/part/suffix/hash/hash.db
		if len(f) != 6 {
			continue
		}
		part, err := strconv.Atoi(f[2])
		if err != nil {
			continue
		}
		peers, err := r.peers.Peers(r.kind, f[0], part)
		if err != nil {
			return st, fmt.Errorf("peers of %s partition %d: %w", f[0], part, err)
		}
		st.Databases++
		if r.ReclaimAge > 0 {
			k, err := r.reclaim(ctx, p)
			if err != nil {
				r.log.Warn("reclaim tombstones", "db", p, "err", err)
			}
			st.Reclaimed += k
		}
		for _, n := range peers {
			pushed, pulled, err := r.replicateOne(ctx, p, n, part, f[4])
			st.Pushed += pushed
			st.Pulled += pulled
			if err != nil {
				st.Failures++
				r.log.Warn("db replication failed", "db", p, "peer", n.Addr, "device", n.Device, "err", err)
			}
		}
	}
	return st, nil
}

func (r *Replicator) replicateOne(ctx context.Context, path string, n Node, part int, hash string) (pushed, pulled int, err error) {
	d, release, err := r.store.handle(path, false, r.kind, nil)
	if err != nil {
		return 0, 0, err
	}
	defer release()
	mine, err := localInfo(ctx, d, r.kind)
	if err != nil {
		return 0, 0, err
	}
	var theirs replInfo
	if err := r.call(ctx, n, part, hash, "sync", mine, &theirs); err != nil {
		return 0, 0, err
	}
	if theirs.ID == mine.ID {
		return 0, 0, errors.New("peer is this database")
	}
	if err := mergeInfo(ctx, d, r.kind, theirs); err != nil {
		return 0, 0, err
	}
	// Push: rows after the point the peer has merged ours to. Each batch
	// moves the point, so the loop ends after at most MaxRow/batch rounds.
	since := theirs.Point
	for i := 0; i <= int(mine.MaxRow/replBatch)+1; i++ {
		b, err := rowsSince(ctx, d, r.kind, since, replBatch)
		if err != nil {
			return pushed, pulled, err
		}
		if b.len() == 0 {
			break
		}
		b.From = mine.ID
		if err := r.call(ctx, n, part, hash, "merge_items", b, nil); err != nil {
			return pushed, pulled, err
		}
		pushed += b.len()
		since = b.Point
	}
	// Pull: the peer's rows after the point we have merged theirs to.
	since, err = syncPoint(ctx, d.R, theirs.ID)
	if err != nil {
		return pushed, pulled, err
	}
	for i := 0; since < theirs.MaxRow && i <= int(theirs.MaxRow/replBatch)+1; i++ {
		var b replRows
		if err := r.call(ctx, n, part, hash, "get_items", getItemsArgs{Since: since, Limit: replBatch}, &b); err != nil {
			return pushed, pulled, err
		}
		if b.len() == 0 || b.Point <= since {
			break
		}
		k, err := mergeRows(ctx, d, r.kind, theirs.ID, b)
		if err != nil {
			return pushed, pulled, err
		}
		pulled += k
		since = b.Point
	}
	return pushed, pulled, nil
}

// reclaim drops tombstones older than ReclaimAge. The counters do not
// change: tombstones never counted.
func (r *Replicator) reclaim(ctx context.Context, path string) (int, error) {
	d, release, err := r.store.handle(path, false, r.kind, nil)
	if err != nil {
		return 0, err
	}
	defer release()
	cutoff := TimestampFromTime(time.Now().Add(-r.ReclaimAge))
	q := `DELETE FROM object WHERE deleted = 1 AND created_at < ?`
	if r.kind == KindAccount {
		q = `DELETE FROM container WHERE deleted = 1 AND delete_timestamp < ?`
	}
	// Skip the write transaction when there is nothing to reclaim, so an
	// idle pass costs no fsync.
	var n int
	countQ := strings.Replace(q, "DELETE FROM", "SELECT COUNT(*) FROM", 1)
	if err := d.R.QueryRowContext(ctx, countQ, cutoff).Scan(&n); err != nil || n == 0 {
		return 0, err
	}
	res, err := d.W.ExecContext(ctx, q, cutoff)
	if err != nil {
		return 0, err
	}
	k, _ := res.RowsAffected()
	return int(k), nil
}

// call sends one REPLICATE op to a peer and decodes its JSON reply.
func (r *Replicator) call(ctx context.Context, n Node, part int, hash, op string, args, out any) error {
	a, err := json.Marshal(args)
	if err != nil {
		return err
	}
	body, err := json.Marshal(replRequest{Op: op, Args: a})
	if err != nil {
		return err
	}
	target := "http://" + n.Addr + "/" + url.PathEscape(n.Device) + "/" + strconv.Itoa(part) + "/" + hash
	req, err := http.NewRequestWithContext(ctx, "REPLICATE", target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReplBody))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("REPLICATE %s %s: %s: %s", op, target, resp.Status, bytes.TrimSpace(data))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}
