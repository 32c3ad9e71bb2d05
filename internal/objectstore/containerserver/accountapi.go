package containerserver

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

// AccountServer is Swift's account server: account databases and the
// container rows containers report into them.
type AccountServer struct {
	store *Store
	log   *slog.Logger
	// autoCreatePrefix names accounts created on their first container
	// report (Swift's auto_create_account_prefix).
	autoCreatePrefix string
}

// NewAccountServer serves the store's account databases.
func NewAccountServer(store *Store, log *slog.Logger) *AccountServer {
	if log == nil {
		log = slog.Default()
	}
	return &AccountServer{store: store, log: log, autoCreatePrefix: "."}
}

// ServeHTTP routes by method and path depth.
func (s *AccountServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	echoTransID(w, r)
	if r.Method == "REPLICATE" {
		serveReplicate(s.store, KindAccount, s.log, w, r)
		return
	}
	p, ok := parsePath(w, r, 1, 2)
	if !ok {
		return
	}
	if !s.store.deviceOK(p.dev) {
		deviceMissing(w, p.dev)
		return
	}
	if len(p.segs) == 2 && p.segs[1] == "" {
		p.segs = p.segs[:1]
	}
	ref := AccountRef{Device: p.dev, Partition: p.part, Account: p.segs[0]}
	if len(p.segs) == 2 {
		if strings.Contains(p.segs[1], "/") {
			swiftError(w, http.StatusBadRequest, "Invalid path: "+r.URL.Path)
			return
		}
		if r.Method != http.MethodPut {
			swiftError(w, http.StatusMethodNotAllowed, "")
			return
		}
		s.putContainer(w, r, ref, p.segs[1])
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

func (s *AccountServer) put(w http.ResponseWriter, r *http.Request, ref AccountRef) {
	ts, ok := requireTimestamp(w, r)
	if !ok {
		return
	}
	created, err := s.store.PutAccount(r.Context(), ref, ts, metadataFromHeaders(r.Header, "Account", ts))
	if err != nil {
		storeError(w, r, s.log, err)
		return
	}
	if created {
		status(w, http.StatusCreated)
		return
	}
	status(w, http.StatusAccepted)
}

// putContainer records a container server's report.
func (s *AccountServer) putContainer(w http.ResponseWriter, r *http.Request, ref AccountRef, name string) {
	h := r.Header
	put, err1 := ParseTimestamp(h.Get("X-Put-Timestamp"))
	del, err2 := parseOptionalTimestamp(h.Get("X-Delete-Timestamp"))
	count, err3 := strconv.ParseInt(h.Get("X-Object-Count"), 10, 64)
	used, err4 := strconv.ParseInt(h.Get("X-Bytes-Used"), 10, 64)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		swiftError(w, http.StatusBadRequest, "Missing or invalid container update headers")
		return
	}
	pol, ok := policyIndex(w, r)
	if !ok {
		return
	}
	reportTS := Now()
	if v := h.Get("X-Timestamp"); v != "" {
		if t, err := ParseTimestamp(v); err == nil {
			reportTS = t
		}
	}
	rec := ContainerRecord{Name: name, PutTimestamp: put, DeleteTimestamp: del, ObjectCount: count,
		BytesUsed: used, ReportTimestamp: reportTS, PolicyIndex: pol}
	autoCreate := strings.HasPrefix(ref.Account, s.autoCreatePrefix)
	if err := s.store.PutContainerRecord(r.Context(), ref, rec, autoCreate); err != nil {
		storeError(w, r, s.log, err)
		return
	}
	if del > put {
		noContent(w)
		return
	}
	status(w, http.StatusCreated)
}

func parseOptionalTimestamp(v string) (Timestamp, error) {
	if v == "" || v == "0" {
		return zeroTimestamp, nil
	}
	return ParseTimestamp(v)
}

func (s *AccountServer) statHeaders(h http.Header, info AccountInfo) {
	h.Set("X-Account-Container-Count", strconv.FormatInt(info.ContainerCount, 10))
	h.Set("X-Account-Object-Count", strconv.FormatInt(info.ObjectCount, 10))
	h.Set("X-Account-Bytes-Used", strconv.FormatInt(info.BytesUsed, 10))
	h.Set("X-Timestamp", info.CreatedAt.Normal())
	h.Set("X-Put-Timestamp", info.PutTimestamp.Normal())
	h.Set("X-Backend-Timestamp", info.CreatedAt.Internal())
	h.Set("X-Backend-Put-Timestamp", info.PutTimestamp.Internal())
	h.Set("X-Backend-Delete-Timestamp", info.DeleteTimestamp.Internal())
	h.Set("X-Backend-Status-Changed-At", info.StatusChangedAt.Internal())
	info.Metadata.writeHeaders(h)
}

func accountNotFound(w http.ResponseWriter, info AccountInfo) {
	if info.Status == "DELETED" {
		w.Header().Set("X-Account-Status", "Deleted")
	}
	swiftError(w, http.StatusNotFound, "")
}

func (s *AccountServer) head(w http.ResponseWriter, r *http.Request, ref AccountRef) {
	info, err := s.store.AccountInfo(r.Context(), ref)
	if errors.Is(err, ErrNotFound) {
		accountNotFound(w, info)
		return
	}
	if err != nil {
		storeError(w, r, s.log, err)
		return
	}
	ct := listingContentType(r.URL.Query().Get("format"), r.Header.Get("Accept"))
	if ct == "" {
		swiftError(w, http.StatusNotAcceptable, "")
		return
	}
	s.statHeaders(w.Header(), info)
	w.Header().Set("Content-Type", ct+"; charset=utf-8")
	noContent(w)
}

func (s *AccountServer) get(w http.ResponseWriter, r *http.Request, ref AccountRef) {
	p, ct, ok := listParams(w, r)
	if !ok {
		return
	}
	info, entries, err := s.store.ListContainers(r.Context(), ref, p)
	if errors.Is(err, ErrNotFound) {
		accountNotFound(w, info)
		return
	}
	if err != nil {
		storeError(w, r, s.log, err)
		return
	}
	s.statHeaders(w.Header(), info)
	writeListing(w, ct, renderContainers(ct, ref.Account, entries))
}

func (s *AccountServer) post(w http.ResponseWriter, r *http.Request, ref AccountRef) {
	ts, ok := requireTimestamp(w, r)
	if !ok {
		return
	}
	if err := s.store.PostAccount(r.Context(), ref, metadataFromHeaders(r.Header, "Account", ts)); err != nil {
		storeError(w, r, s.log, err)
		return
	}
	noContent(w)
}

func (s *AccountServer) delete(w http.ResponseWriter, r *http.Request, ref AccountRef) {
	ts, ok := requireTimestamp(w, r)
	if !ok {
		return
	}
	if err := s.store.DeleteAccount(r.Context(), ref, ts); err != nil {
		storeError(w, r, s.log, err)
		return
	}
	noContent(w)
}
