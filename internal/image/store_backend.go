package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"

	"kumo/internal/platform/httpapi"
)

// ObjectStore is what a swift store needs of kumo's object store: the
// objects of one account (the image service's), with a service token.
// Errors for a missing object or container wrap os.ErrNotExist.
type ObjectStore interface {
	// Put stores size bytes of r as container/object, creating the
	// container when needed; etag (hex MD5) is checked by Swift.
	Put(ctx context.Context, container, object string, r io.Reader, size int64, etag string) error
	// Get reads an object; rng is an HTTP Range header value ("" is the
	// whole object). It returns the body and its length.
	Get(ctx context.Context, container, object, rng string) (io.ReadCloser, int64, error)
	// Delete removes an object; a missing one is not an error.
	Delete(ctx context.Context, container, object string) error
}

// swiftMaxObject is the object store's largest object (Swift's
// max_file_size, 5 GiB); larger images would need large objects.
const swiftMaxObject = 5 << 30

// maxSize is the largest image the store takes (0: no limit of its own).
func (st *fsStore) maxSize() int64 {
	if st.swift != nil {
		return swiftMaxObject
	}
	return 0
}

// tooLarge is the 413 for an image over the store's own limit.
func (st *fsStore) tooLarge(n int64) error {
	if m := st.maxSize(); m > 0 && n > m {
		return httpapi.Errorf(http.StatusRequestEntityTooLarge, "The incoming image is too large: %d bytes exceed the limit of %d bytes of store %s", n, m, st.ID)
	}
	return nil
}

// commit moves the verified temporary file tmp (size bytes, hex MD5 md5)
// into the store as image id: a rename, or an upload to Swift (the file
// goes either way).
func (st *fsStore) commit(ctx context.Context, tmp, id string, size int64, md5 string) error {
	if st.swift == nil {
		if err := os.Rename(tmp, st.path(id)); err != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("store image data: %w", err)
		}
		syncDir(st.Dir)
		return nil
	}
	defer os.Remove(tmp)
	if err := st.tooLarge(size); err != nil {
		return err
	}
	f, err := os.Open(tmp)
	if err != nil {
		return fmt.Errorf("store image data: %w", err)
	}
	defer f.Close()
	if err := st.swift.Put(ctx, st.Container, id, ctxReader{ctx, f}, size, md5); err != nil {
		return fmt.Errorf("store image data in swift store %s: %w", st.ID, err)
	}
	return nil
}

// remove removes image id's data from the store; none there is no error.
func (st *fsStore) remove(ctx context.Context, id string) error {
	if st.swift != nil {
		return st.swift.Delete(ctx, st.Container, id)
	}
	if err := os.Remove(st.path(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// open reads length bytes from start of image id's data.
func (st *fsStore) open(ctx context.Context, id string, start, length int64) (io.Reader, io.Closer, error) {
	if st.swift != nil {
		rng := "bytes=" + strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(start+length-1, 10)
		if length <= 0 {
			rng = ""
		}
		body, n, err := st.swift.Get(ctx, st.Container, id, rng)
		if err != nil {
			return nil, nil, err
		}
		if length > 0 && n != length {
			body.Close()
			return nil, nil, fmt.Errorf("swift store %s: object %s: %d bytes, want %d", st.ID, id, n, length)
		}
		return body, body, nil
	}
	f, err := os.Open(st.path(id))
	if err != nil {
		return nil, nil, err
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, err
	}
	return &io.LimitedReader{R: f, N: length}, f, nil
}
