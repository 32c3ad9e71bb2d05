package image

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"kumo/internal/platform/httpapi"
)

// Quotas from Keystone's unified limits, as Glance with
// use_keystone_limits = True (glance/quota/keystone.py): four resources
// registered for the service type "image", counted per project.
//
//   - image_count_total: images the project owns that are not killed or
//     deleted; checked when an image is created (usage + 1 > limit is 413).
//   - image_count_uploading: the project's images being uploaded (saving);
//     checked once the image is saving (usage > limit is 413, the image
//     goes back to queued).
//   - image_size_total (MiB): the data of the project's images, each
//     store's copy counted (as Glance counts each location); checked
//     before an upload with the announced Content-Length, and, unlike
//     Glance, also while the data streams in, so a chunked upload or a
//     lying Content-Length cannot go past the limit either.
//   - image_stage_total (MiB): data staged for glance-direct import
//     (images uploading or importing); checked when data is staged.
//
// As Glance, the project is the caller's (context.owner), not the image's
// owner. Where kumo differs from oslo.limit: a resource with no registered
// limit is unlimited (oslo.limit takes it as a limit of 0), so is a limit
// of -1 (Keystone's "unlimited"), and image_size_total is compared in bytes
// (limit × 1 MiB) where Glance floors usage and delta to whole MiB.

// LimitReader reads a project's unified limit for one resource: the
// project's own limit, else the registered default; ok is false when none
// is registered. The identity service is one.
type LimitReader interface {
	ProjectLimit(ctx context.Context, projectID, serviceType, region, resource string) (int64, bool, error)
}

const (
	quotaImageSizeTotal      = "image_size_total"
	quotaImageStageTotal     = "image_stage_total"
	quotaImageCountTotal     = "image_count_total"
	quotaImageCountUploading = "image_count_uploading"

	mib = 1 << 20
	// quotaCheckEvery is how often (in bytes received) an upload re-checks
	// image_size_total while it streams; the end of the data is always
	// checked.
	quotaCheckEvery = 16 * mib
)

var quotaResources = []string{quotaImageSizeTotal, quotaImageStageTotal, quotaImageCountTotal, quotaImageCountUploading}

// limit is the project's limit of resource; ok is false when there is
// none (no limit source, no project, nothing registered, or -1).
func (s *Service) limit(ctx context.Context, project, resource string) (int64, bool, error) {
	if s.cfg.Limits == nil || project == "" {
		return 0, false, nil
	}
	n, ok, err := s.cfg.Limits.ProjectLimit(ctx, project, "image", s.cfg.LimitRegion, resource)
	if err != nil {
		return 0, false, fmt.Errorf("image: limit %s: %w", resource, err)
	}
	if !ok || n < 0 {
		return 0, false, nil
	}
	return n, true, nil
}

// overLimit is Glance's LimitExceeded around oslo.limit's ProjectOverLimit.
func overLimit(project, resource string, limit, usage, delta int64) error {
	return httpapi.Errorf(http.StatusRequestEntityTooLarge, "The request returned a 413 Request Entity Too Large. "+
		"This generally means that rate limiting or a quota threshold was breached.\n\nThe response body:\n"+
		"Project %s is over a limit for [Resource %s is over limit of %d due to current usage %d and delta %d]",
		project, resource, limit, usage, delta)
}

// checkImageCount is Glance's enforce_image_count_total, on create.
func (c *call) checkImageCount() error {
	project := c.project()
	lim, ok, err := c.s.limit(c.ctx, project, quotaImageCountTotal)
	if err != nil || !ok {
		return err
	}
	n, err := c.s.store.quotaUsage(c.ctx, project, quotaImageCountTotal)
	if err != nil {
		return err
	}
	if n+1 > lim {
		return overLimit(project, quotaImageCountTotal, lim, n, 1)
	}
	return nil
}

// checkUploading is Glance's enforce_image_count_uploading, made once the
// image is saving (so it counts itself).
func (c *call) checkUploading() error {
	project := c.project()
	lim, ok, err := c.s.limit(c.ctx, project, quotaImageCountUploading)
	if err != nil || !ok {
		return err
	}
	n, err := c.s.store.quotaUsage(c.ctx, project, quotaImageCountUploading)
	if err != nil {
		return err
	}
	if n > lim {
		return overLimit(project, quotaImageCountUploading, lim, n, 0)
	}
	return nil
}

// sizeQuota is the image_size_total check of one upload. A nil *sizeQuota
// (no limit) checks nothing.
type sizeQuota struct {
	s       *Service
	project string
	limit   int64 // MiB
	n       int64 // bytes received so far
	checked int64 // n at the last check
}

// uploadQuota is Glance's enforce_image_size_total before the upload:
// the project's stored data, the data other uploads of the project are
// streaming right now, and the announced length (0 when chunked) must fit.
func (c *call) uploadQuota() (*sizeQuota, error) {
	project := c.project()
	lim, ok, err := c.s.limit(c.ctx, project, quotaImageSizeTotal)
	if err != nil || !ok {
		return nil, err
	}
	q := &sizeQuota{s: c.s, project: project, limit: lim}
	return q, q.check(c.ctx, max(c.r.ContentLength, 0))
}

// check fails when the project's data plus extra bytes exceed the limit.
// The in-flight bytes are read first, under the lock only for that read;
// the stored usage after, in a write transaction, without the lock. An
// upload that finishes commits its size before it stops being in flight,
// so it is counted once or twice, never zero times: if the in-flight read
// came after done(), the commit came before it, and the single writer
// orders the usage query after that commit.
func (q *sizeQuota) check(ctx context.Context, extra int64) error {
	u := &q.s.uploads
	u.mu.Lock()
	flying := u.bytes[q.project]
	u.mu.Unlock()
	q.s.at("size_quota_query")
	var stored int64
	err := q.s.store.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		stored, err = quotaUsage(ctx, tx, q.project, quotaImageSizeTotal)
		return err
	})
	if err != nil {
		return wrap("quota usage", err)
	}
	if total := stored + flying + extra; total > q.limit*mib {
		return overLimit(q.project, quotaImageSizeTotal, q.limit, stored/mib, (flying+extra+mib-1)/mib)
	}
	return nil
}

// reader counts body's bytes as in flight for the project and checks the
// limit every quotaCheckEvery bytes and at the end of the data: going over
// is a 413 before the data file is kept.
func (q *sizeQuota) reader(ctx context.Context, body io.Reader) io.Reader {
	if q == nil {
		return body
	}
	return &quotaReader{q: q, ctx: ctx, r: body}
}

// done forgets the upload's in-flight bytes; call it after the image's
// size is stored (or the upload failed). A second call does nothing.
func (q *sizeQuota) done() {
	if q == nil || q.n == 0 {
		return
	}
	u := &q.s.uploads
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.bytes[q.project] -= q.n; u.bytes[q.project] <= 0 {
		delete(u.bytes, q.project)
	}
	q.n = 0
}

type quotaReader struct {
	q   *sizeQuota
	ctx context.Context
	r   io.Reader
}

func (r *quotaReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	q := r.q
	if n > 0 {
		u := &q.s.uploads
		u.mu.Lock()
		if u.bytes == nil {
			u.bytes = map[string]int64{}
		}
		u.bytes[q.project] += int64(n)
		u.mu.Unlock()
		q.n += int64(n)
	}
	if errors.Is(err, io.EOF) || q.n-q.checked >= quotaCheckEvery {
		q.checked = q.n
		if qerr := q.check(r.ctx, 0); qerr != nil {
			return 0, qerr
		}
	}
	return n, err
}

// inflight is the data of uploads in progress, per project.
type inflight struct {
	mu    sync.Mutex
	bytes map[string]int64
}

// getUsage is GET /v2/info/usage: the caller's project's usage and limit
// of each resource (size and staging in MiB). Without a limit source it
// is empty, as Glance with use_keystone_limits = False. An unlimited
// resource shows a limit of -1.
func getUsage(c *call) error {
	out := map[string]any{}
	if project := c.project(); c.s.cfg.Limits != nil && project != "" {
		for _, res := range quotaResources {
			lim, ok, err := c.s.limit(c.ctx, project, res)
			if err != nil {
				return err
			}
			if !ok {
				lim = -1
			}
			n, err := c.s.store.quotaUsage(c.ctx, project, res)
			if err != nil {
				return err
			}
			if res == quotaImageSizeTotal || res == quotaImageStageTotal {
				n /= mib
			}
			out[res] = map[string]any{"limit": lim, "usage": n}
		}
	}
	return c.json(http.StatusOK, map[string]any{"usage": out})
}

// quotaUsage is the project's usage of resource, as Glance's
// user_get_image_count, user_get_uploading_count, user_get_storage_usage
// (bytes) and user_get_staging_usage (bytes) count it.
func (s *Store) quotaUsage(ctx context.Context, owner, resource string) (int64, error) {
	return quotaUsage(ctx, s.db.R, owner, resource)
}

// queryRower is a *sql.DB or a *sql.Tx.
type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func quotaUsage(ctx context.Context, db queryRower, owner, resource string) (int64, error) {
	gone := "'" + strings.Join([]string{statusKilled, statusDeleted, "pending_delete"}, "', '") + "'"
	var q string
	switch resource {
	case quotaImageCountTotal:
		q = `SELECT COUNT(*) FROM images WHERE owner = ? AND deleted = 0 AND status NOT IN (` + gone + `)`
	case quotaImageCountUploading:
		q = `SELECT COUNT(*) FROM images WHERE owner = ? AND deleted = 0 AND status IN ('` + statusSaving + `', 'uploading', 'importing')`
	case quotaImageSizeTotal:
		// Each store's copy counts, as Glance's user_get_storage_usage
		// counts the size once per location.
		q = `SELECT COALESCE(SUM(size * (SELECT COUNT(*) FROM image_locations l WHERE l.image_id = images.id)), 0) FROM images
			WHERE owner = ? AND deleted = 0 AND has_data = 1 AND size > 0 AND status NOT IN (` + gone + `)`
	case quotaImageStageTotal:
		q = `SELECT COALESCE(SUM(size), 0) FROM images WHERE owner = ? AND deleted = 0 AND size > 0 AND status IN ('uploading', 'importing')`
	default:
		return 0, fmt.Errorf("image: unknown quota resource %q", resource)
	}
	var n int64
	if err := db.QueryRowContext(ctx, q, owner).Scan(&n); err != nil {
		return 0, wrap("quota usage", err)
	}
	return n, nil
}
