package image

import (
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"

	"kumo/internal/image/diskformat"
	"kumo/internal/platform/httpapi"
)

var dataRoutes = []route{
	{pattern: "PUT /v2/images/{image_id}/file", action: "upload_image", parse: parseUpload, target: loadImage, handle: uploadImage},
	// download_image is checked in downloadImage, after Glance's
	// "deactivated" check.
	{pattern: "GET /v2/images/{image_id}/file", action: "", target: loadImage, handle: downloadImage},
}

// parseUpload is Glance's upload deserializer: image data must be sent as
// application/octet-stream (415 otherwise).
func parseUpload(c *call) error {
	ct := c.r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if mt != "application/octet-stream" {
		if ct == "" {
			ct = "None"
		}
		return httpapi.Errorf(http.StatusUnsupportedMediaType, "Invalid content type %s", ct)
	}
	return nil
}

// inspectContainers are the container formats whose data is inspected
// before the image becomes active. As in Glance, only "bare" data is a disk
// image as is; the others (ami, ovf, ova, docker, ...) are opaque to the
// image service, and the consumer (compute) checks what it unpacks.
var inspectContainers = map[string]bool{"bare": true}

// uploadImage stores the image data: queued → saving → active. The data
// is streamed to DataDir/images/<id>.tmp while its size, MD5 and SHA-512
// are computed, fsynced, inspected, and renamed into place; only then does
// the image become active. Any failure on the way (the client going away,
// a refused disk image, a size over the cap) removes the temporary file and
// puts the image back to queued, so the upload can be retried.
func uploadImage(c *call) error {
	im := c.image
	// Glance checks image_size_total (quota.go) first of all.
	quota, err := c.uploadQuota()
	if err != nil {
		return err
	}
	defer quota.done()
	if err := c.checkMutable(); err != nil {
		return err
	}
	if im.Status != statusQueued {
		return httpapi.Conflict("Image status transition from %s to saving is not allowed", im.Status)
	}
	var missing []string
	if im.DiskFormat == nil || *im.DiskFormat == "" {
		missing = append(missing, "disk_format")
	}
	if im.ContainerFormat == nil || *im.ContainerFormat == "" {
		missing = append(missing, "container_format")
	}
	if len(missing) == 1 {
		return httpapi.BadRequest("Property %s must be set prior to saving data.", missing[0])
	} else if len(missing) > 1 {
		return httpapi.BadRequest("Properties %s must be set prior to saving data.", strings.Join(missing, ", "))
	}
	st, err := c.uploadStore()
	if err != nil {
		return err
	}
	if c.r.ContentLength > c.s.cfg.MaxImageSize {
		return httpapi.Errorf(http.StatusRequestEntityTooLarge, "The incoming image is too large: %d bytes exceed the limit of %d bytes", c.r.ContentLength, c.s.cfg.MaxImageSize)
	}
	if err := st.tooLarge(c.r.ContentLength); err != nil {
		return err
	}
	im.Status, im.UpdatedAt = statusSaving, c.s.now()
	if err := c.s.store.SaveData(c.ctx, im, statusQueued); err != nil {
		if errors.Is(err, errStale) {
			return httpapi.Conflict("Image status transition from %s to saving is not allowed", "queued")
		}
		return err
	}
	// From here on the image must never stay in saving: the database writes
	// below outlive a client that went away.
	ctx := context.WithoutCancel(c.ctx)
	if err := c.checkUploading(); err != nil {
		c.s.restoreQueued(ctx, im)
		return err
	}
	info, err := c.s.receive(c.ctx, st, im, quota.reader(c.ctx, c.r.Body), c.r.ContentLength)
	if err != nil {
		c.s.restoreQueued(ctx, im)
		return err
	}
	im.Size, im.Checksum, im.OSHashValue = &info.size, &info.md5, &info.sha512
	algo := "sha512"
	im.OSHashAlgo = &algo
	if info.virtualSize > 0 {
		im.VirtualSize = &info.virtualSize
	}
	im.HasData, im.Status, im.UpdatedAt = true, statusActive, c.s.now()
	if err := c.s.store.SaveDataIn(ctx, im, statusSaving, locChange{add: st.ID}); err != nil {
		_ = st.remove(ctx, im.ID)
		if errors.Is(err, errNotFound) || errors.Is(err, errStale) {
			return httpapi.Errorf(http.StatusGone, "Image %s could not be found after upload. The image may have been deleted during the upload, cleaning up the chunks uploaded.", im.ID)
		}
		c.s.restoreQueued(ctx, im)
		return err
	}
	quota.done() // stored now: no longer in flight, before the client hears of it
	return c.noContent()
}

// uploadStore is the store an upload goes to: X-Image-Meta-Store, else
// the default (the header is ignored without multiple stores, as Glance).
func (c *call) uploadStore() (*fsStore, error) {
	id := c.r.Header.Get("X-Image-Meta-Store")
	if !c.s.stores.multi || id == "" {
		return c.s.stores.def(), nil
	}
	st := c.s.stores.get(id)
	if st == nil {
		return nil, httpapi.BadRequest("Store for scheme %s not found", id)
	}
	return st, nil
}

// restoreQueued is Glance's _restore: the image goes back to queued with
// nothing known about its data.
func (s *Service) restoreQueued(ctx context.Context, im *Image) {
	resetData(im)
	im.Status, im.UpdatedAt = statusQueued, s.now()
	if err := s.store.SaveData(ctx, im, statusSaving); err != nil && !errors.Is(err, errNotFound) && !errors.Is(err, errStale) {
		s.log.Error("image: cannot restore image to queued", "image", im.ID, "err", err)
	}
}

type received struct {
	size        int64
	md5, sha512 string
	virtualSize int64
}

// receive streams body into the image's data file in store st and
// returns what it learnt. On error nothing is left on disk.
// length is the announced Content-Length (-1 when chunked): fewer bytes
// means the client went away.
func (s *Service) receive(ctx context.Context, st *fsStore, im *Image, body io.Reader, length int64) (received, error) {
	var out received
	tmp := st.path(im.ID) + ".tmp"
	md, sh := md5.New(), sha512.New()
	n, err := s.spool(tmp, body, length, md, sh)
	if err != nil {
		return out, err
	}
	ok := false
	defer func() {
		if !ok {
			_ = os.Remove(tmp)
		}
	}()
	if cf := *im.ContainerFormat; inspectContainers[cf] && n > 0 {
		info, err := diskformat.Inspect(ctx, tmp, *im.DiskFormat)
		if err != nil {
			if diskformat.IsBadImage(err) {
				return out, httpapi.BadRequest("Image data refused: %v", err)
			}
			return out, fmt.Errorf("inspect image %s: %w", im.ID, err)
		}
		out.virtualSize = info.VirtualSize
	}
	if err := st.tooLarge(n); err != nil {
		return out, err
	}
	ok = true // commit removes tmp
	if err := st.commit(ctx, tmp, im.ID, n, hexSum(md)); err != nil {
		return out, err
	}
	out.size, out.md5, out.sha512 = n, hexSum(md), hexSum(sh)
	return out, nil
}

// spool streams body into a new file tmp (at most MaxImageSize bytes),
// hashing it into h1 and h2 when they are not nil, and fsyncs and closes
// it; it returns the size. On error nothing is left at tmp. Uploads and
// staging (api_import.go) both use it.
func (s *Service) spool(tmp string, body io.Reader, length int64, h1, h2 hash.Hash) (int64, error) {
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, fmt.Errorf("create image data file: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			_ = os.Remove(tmp)
		}
	}()
	limit := s.cfg.MaxImageSize
	n, err := hashCopy(newWriteback(f), h1, h2, io.LimitReader(body, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return 0, httpapi.Errorf(http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		}
		if e, ok := httpapi.AsError(err); ok { // over quota while streaming
			return 0, e
		}
		return 0, httpapi.BadRequest("Error reading the image data from the request: %v", err)
	}
	if length >= 0 && n != length {
		return 0, httpapi.BadRequest("The image data ended after %d of %d bytes.", n, length)
	}
	if n > limit {
		return 0, httpapi.Errorf(http.StatusRequestEntityTooLarge, "The incoming image is too large: it exceeds the limit of %d bytes", limit)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("sync image data: %w", err)
	}
	ok = true
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return 0, fmt.Errorf("close image data: %w", err)
	}
	return n, nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// syncDir makes a rename durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// downloadImage streams the image data, or one byte range of it.
func downloadImage(c *call) error {
	im := c.image
	if im.Status == statusDeactivated && !c.admin {
		return httpapi.Forbidden("The requested image has been deactivated. Image data download is forbidden.")
	}
	if err := c.enforce("download_image"); err != nil {
		return err
	}
	if !im.HasData || im.Size == nil {
		return c.noContent()
	}
	size := *im.Size
	start, length, status := int64(0), size, http.StatusOK
	if rh := c.r.Header.Get("Range"); rh != "" {
		s, l, ok := parseRange(rh, size)
		if !ok {
			e := httpapi.Errorf(http.StatusRequestedRangeNotSatisfiable, "Requested range not satisfiable")
			e.Header = http.Header{"Content-Range": {"bytes */" + strconv.FormatInt(size, 10)}}
			return e
		}
		start, length, status = s, l, http.StatusPartialContent
		c.w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+length-1, size))
	}
	body, closer, err := c.s.openData(c.ctx, im, start, length)
	if errors.Is(err, os.ErrNotExist) {
		return c.noContent()
	}
	if err != nil {
		return err
	}
	defer closer.Close()
	h := c.w.Header()
	h.Set("Content-Type", "application/octet-stream")
	if im.Checksum != nil {
		h.Set("Content-MD5", *im.Checksum)
	}
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	c.w.WriteHeader(status)
	if c.r.Method == http.MethodHead {
		return nil
	}
	// Errors here mean the client went away; the status is already sent.
	// The file goes to the server's own writer, whose ReadFrom hands it to
	// the kernel (sendfile(2) on a TCP connection): no copy through user
	// space. The access log's byte count misses it (the platform's status
	// writer has no ReadFrom).
	_, _ = io.Copy(readerFrom(c.w), body)
	return nil
}

// readerFrom finds, under the middlewares' wrappers (Unwrap), the first
// writer that implements io.ReaderFrom: net/http's response, which sends
// an *os.File (or an io.LimitedReader of one) with sendfile. Without one,
// w itself (io.Copy then copies through a buffer).
func readerFrom(w http.ResponseWriter) io.Writer {
	for range 8 { // wrappers are few; stay bounded
		if rf, ok := w.(io.ReaderFrom); ok {
			return struct {
				io.ReaderFrom
				io.Writer
			}{rf, w}
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		w = u.Unwrap()
	}
	return w
}

// parseRange reads a single "bytes=" range as webob does: start-end
// (inclusive, end clamped to the size), start-, or -suffix.
func parseRange(h string, size int64) (start, length int64, ok bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false
	}
	if a == "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 || size == 0 {
			return 0, 0, false
		}
		n = min(n, size)
		return size - n, n, true
	}
	s, err := strconv.ParseInt(a, 10, 64)
	if err != nil || s < 0 || s >= size {
		return 0, 0, false
	}
	end := size - 1
	if b != "" {
		e, err := strconv.ParseInt(b, 10, 64)
		if err != nil || e < s {
			return 0, 0, false
		}
		end = min(e, size-1)
	}
	return s, end - s + 1, true
}
