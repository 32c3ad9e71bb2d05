package containerserver

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

// ContainerServer is Swift's container server: the proxy's door to the
// container databases on this node's devices.
type ContainerServer struct {
	store   *Store
	updater *Updater
	log     *slog.Logger
	// AutoCreatePrefix marks accounts whose containers spring into being
	// on the first object update (Swift's auto_create_account_prefix, ".").
	autoCreatePrefix string
}

// NewContainerServer serves the store's container databases. updater may be
// nil, in which case nothing is reported to account servers.
func NewContainerServer(store *Store, updater *Updater, log *slog.Logger) *ContainerServer {
	if log == nil {
		log = slog.Default()
	}
	return &ContainerServer{store: store, updater: updater, log: log, autoCreatePrefix: "."}
}

// ServeHTTP routes by method and path depth, as Swift's server does.
func (s *ContainerServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	echoTransID(w, r)
	if r.Method == "REPLICATE" {
		serveReplicate(s.store, KindContainer, s.log, w, r)
		return
	}
	p, ok := parsePath(w, r, 2, 3)
	if !ok {
		return
	}
	if !s.store.deviceOK(p.dev) {
		deviceMissing(w, p.dev)
		return
	}
	if len(p.segs) == 3 && p.segs[2] == "" {
		p.segs = p.segs[:2]
	}
	ref := ContainerRef{Device: p.dev, Partition: p.part, Account: p.segs[0], Container: p.segs[1]}
	if len(p.segs) == 3 {
		s.objectUpdate(w, r, ref, p.segs[2])
		return
	}
	switch r.Method {
	case http.MethodPut:
		s.put(w, r, ref)
	case http.MethodHead:
		s.head(w, r, ref)
	case http.MethodGet:
		s.get(w, r, ref)
	case http.MethodPost:
		s.post(w, r, ref)
	case http.MethodDelete:
		s.delete(w, r, ref)
	default:
		swiftError(w, http.StatusMethodNotAllowed, "")
	}
}

func (s *ContainerServer) notify(ref ContainerRef) {
	if s.updater != nil {
		s.updater.Notify(s.store.containerPath(ref.Device, ref.Partition, ref.Account, ref.Container))
	}
}

func policyIndex(w http.ResponseWriter, r *http.Request) (int, bool) {
	v := r.Header.Get("X-Backend-Storage-Policy-Index")
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		swiftError(w, http.StatusBadRequest, "Invalid X-Backend-Storage-Policy-Index "+strconv.Quote(v))
		return 0, false
	}
	return n, true
}

// accountHosts keeps the proxy's X-Account-* headers, the account replicas
// this container reports to when no ring locator is configured.
func accountHosts(r *http.Request) string {
	host, part, dev := r.Header.Get("X-Account-Host"), r.Header.Get("X-Account-Partition"), r.Header.Get("X-Account-Device")
	if host == "" || part == "" || dev == "" {
		return ""
	}
	return part + "|" + host + "|" + dev
}

func (s *ContainerServer) put(w http.ResponseWriter, r *http.Request, ref ContainerRef) {
	ts, ok := requireTimestamp(w, r)
	if !ok {
		return
	}
	pol, ok := policyIndex(w, r)
	if !ok {
		return
	}
	created, err := s.store.PutContainer(r.Context(), ref, ts, pol, metadataFromHeaders(r.Header, "Container", ts), accountHosts(r))
	if err != nil {
		storeError(w, r, s.log, err)
		return
	}
	s.notify(ref)
	if created {
		status(w, http.StatusCreated)
		return
	}
	status(w, http.StatusAccepted)
}

func containerHeaders(h http.Header, info ContainerInfo) {
	h.Set("X-Backend-Timestamp", info.CreatedAt.Internal())
	h.Set("X-Backend-Put-Timestamp", info.PutTimestamp.Internal())
	h.Set("X-Backend-Delete-Timestamp", info.DeleteTimestamp.Internal())
	h.Set("X-Backend-Status-Changed-At", info.StatusChangedAt.Internal())
	h.Set("X-Backend-Storage-Policy-Index", strconv.Itoa(info.PolicyIndex))
}

func (s *ContainerServer) statHeaders(h http.Header, info ContainerInfo) {
	containerHeaders(h, info)
	h.Set("X-Container-Object-Count", strconv.FormatInt(info.ObjectCount, 10))
	h.Set("X-Container-Bytes-Used", strconv.FormatInt(info.BytesUsed, 10))
	h.Set("X-Timestamp", info.CreatedAt.Normal())
	h.Set("X-Put-Timestamp", info.PutTimestamp.Normal())
	info.Metadata.writeHeaders(h)
}

// notFound answers 404, with the deleted container's timestamps when there
// is a database, as Swift does for the proxy's benefit.
func notFoundInfo(w http.ResponseWriter, info ContainerInfo) {
	if info.ID != "" {
		containerHeaders(w.Header(), info)
	}
	swiftError(w, http.StatusNotFound, "")
}

func (s *ContainerServer) head(w http.ResponseWriter, r *http.Request, ref ContainerRef) {
	info, err := s.store.ContainerInfo(r.Context(), ref)
	if errors.Is(err, ErrNotFound) {
		notFoundInfo(w, info)
		return
	}
	if err != nil {
		storeError(w, r, s.log, err)
		return
	}
	s.statHeaders(w.Header(), info)
	ct := listingContentType(r.URL.Query().Get("format"), r.Header.Get("Accept"))
	if ct == "" {
		swiftError(w, http.StatusNotAcceptable, "")
		return
	}
	w.Header().Set("Content-Type", ct+"; charset=utf-8")
	noContent(w)
}

func (s *ContainerServer) get(w http.ResponseWriter, r *http.Request, ref ContainerRef) {
	p, ct, ok := listParams(w, r)
	if !ok {
		return
	}
	info, entries, err := s.store.ListObjects(r.Context(), ref, p)
	if errors.Is(err, ErrNotFound) {
		notFoundInfo(w, info)
		return
	}
	if err != nil {
		storeError(w, r, s.log, err)
		return
	}
	s.statHeaders(w.Header(), info)
	writeListing(w, ct, renderObjects(ct, ref.Container, entries))
}

func (s *ContainerServer) post(w http.ResponseWriter, r *http.Request, ref ContainerRef) {
	ts, ok := requireTimestamp(w, r)
	if !ok {
		return
	}
	if err := s.store.PostContainer(r.Context(), ref, metadataFromHeaders(r.Header, "Container", ts)); err != nil {
		storeError(w, r, s.log, err)
		return
	}
	noContent(w)
}

func (s *ContainerServer) delete(w http.ResponseWriter, r *http.Request, ref ContainerRef) {
	ts, ok := requireTimestamp(w, r)
	if !ok {
		return
	}
	if err := s.store.DeleteContainer(r.Context(), ref, ts); err != nil {
		storeError(w, r, s.log, err)
		return
	}
	s.notify(ref)
	noContent(w)
}

// objectUpdate records an object server's PUT or DELETE in the listing
// (and a POST's new content type, as a PUT of the same data).
func (s *ContainerServer) objectUpdate(w http.ResponseWriter, r *http.Request, ref ContainerRef, obj string) {
	ts, ok := requireTimestamp(w, r)
	if !ok {
		return
	}
	rec := ObjectRecord{Name: obj, CreatedAt: ts}
	switch r.Method {
	case http.MethodPut:
		size, err := strconv.ParseInt(r.Header.Get("X-Size"), 10, 64)
		if err != nil || size < 0 {
			swiftError(w, http.StatusBadRequest, "Invalid X-Size")
			return
		}
		rec.Size = size
		rec.ContentType = r.Header.Get("X-Content-Type")
		rec.ETag = strings.Trim(r.Header.Get("X-Etag"), `"`)
		if rec.ContentType == "" || rec.ETag == "" {
			swiftError(w, http.StatusBadRequest, "Missing X-Content-Type or X-Etag")
			return
		}
		if v := r.Header.Get("X-Content-Type-Timestamp"); v != "" {
			// A POST's new content type for the data at X-Timestamp.
			cts, err := ParseTimestamp(v)
			if err != nil {
				swiftError(w, http.StatusBadRequest, "Invalid X-Content-Type-Timestamp")
				return
			}
			rec.CTypeTimestamp = cts
		}
	case http.MethodDelete:
		rec.Deleted = true
	default:
		swiftError(w, http.StatusMethodNotAllowed, "")
		return
	}
	ctx := r.Context()
	err := s.store.PutObjectRecord(ctx, ref, rec)
	if errors.Is(err, ErrNotFound) && strings.HasPrefix(ref.Account, s.autoCreatePrefix) {
		// Swift auto-creates containers of system accounts on first use.
		if _, err = s.store.PutContainer(ctx, ref, ts, 0, nil, accountHosts(r)); err == nil {
			err = s.store.PutObjectRecord(ctx, ref, rec)
		}
	}
	if err != nil {
		storeError(w, r, s.log, err)
		return
	}
	s.notify(ref)
	if rec.Deleted {
		noContent(w)
		return
	}
	status(w, http.StatusCreated)
}
