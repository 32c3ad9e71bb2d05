package containerserver

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
)

// replRequest is a REPLICATE body: ["op", {args}], the shape of Swift's
// db replication RPC.
type replRequest struct {
	Op   string
	Args json.RawMessage
}

func (r replRequest) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{r.Op, r.Args})
}

func (r *replRequest) UnmarshalJSON(b []byte) error {
	var a []json.RawMessage
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	if len(a) != 2 {
		return errors.New("want [op, args]")
	}
	r.Args = a[1]
	return json.Unmarshal(a[0], &r.Op)
}

// getItemsArgs asks for rows after a row id.
type getItemsArgs struct {
	Since int64 `json:"since"`
	Limit int   `json:"limit"`
}

var hashRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// maxReplBody bounds a REPLICATE body (a batch of rows).
const maxReplBody = 64 << 20

// serveReplicate answers REPLICATE /<dev>/<part>/<hash> with ops "sync"
// (exchange info, create the replica if missing), "merge_items" (merge a
// batch of the caller's rows) and "get_items" (rows after a row id).
func serveReplicate(s *Store, kind Kind, log *slog.Logger, w http.ResponseWriter, r *http.Request) {
	p, ok := parsePath(w, r, 1, 1)
	if !ok {
		return
	}
	if !s.deviceOK(p.dev) {
		deviceMissing(w, p.dev)
		return
	}
	hash := p.segs[0]
	if !hashRE.MatchString(hash) {
		swiftError(w, http.StatusBadRequest, "Invalid hash")
		return
	}
	var req replRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, maxReplBody))
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		swiftError(w, http.StatusBadRequest, "Invalid REPLICATE body")
		return
	}
	path := dbPath(s.root, p.dev, kind, p.part, hash)
	ctx := r.Context()
	switch req.Op {
	case "sync":
		var o replInfo
		if err := json.Unmarshal(req.Args, &o); err != nil {
			swiftError(w, http.StatusBadRequest, "Invalid sync args")
			return
		}
		d, release, err := s.handle(path, false, kind, nil)
		if errors.Is(err, ErrNotFound) {
			if err = s.createReplica(path, kind, o); err == nil {
				d, release, err = s.handle(path, false, kind, nil)
			}
		}
		if err != nil {
			replError(w, r, log, err)
			return
		}
		defer release()
		if err := mergeInfo(ctx, d, kind, o); err != nil {
			replError(w, r, log, err)
			return
		}
		mine, err := localInfo(ctx, d, kind)
		if err == nil {
			mine.Point, err = syncPoint(ctx, d.R, o.ID)
		}
		if err != nil {
			replError(w, r, log, err)
			return
		}
		writeJSON(w, mine)
	case "merge_items":
		var b replRows
		if err := json.Unmarshal(req.Args, &b); err != nil || b.From == "" {
			swiftError(w, http.StatusBadRequest, "Invalid merge_items args")
			return
		}
		d, release, err := s.handle(path, false, kind, nil)
		if err != nil {
			replError(w, r, log, err)
			return
		}
		defer release()
		n, err := mergeRows(ctx, d, kind, b.From, b)
		if err != nil {
			replError(w, r, log, err)
			return
		}
		writeJSON(w, map[string]int{"merged": n})
	case "get_items":
		var a getItemsArgs
		if err := json.Unmarshal(req.Args, &a); err != nil || a.Limit <= 0 || a.Limit > 10*replBatch {
			swiftError(w, http.StatusBadRequest, "Invalid get_items args")
			return
		}
		d, release, err := s.handle(path, false, kind, nil)
		if err != nil {
			replError(w, r, log, err)
			return
		}
		defer release()
		rows, err := rowsSince(ctx, d, kind, a.Since, a.Limit)
		if err != nil {
			replError(w, r, log, err)
			return
		}
		writeJSON(w, rows)
	default:
		swiftError(w, http.StatusBadRequest, "Unknown REPLICATE op "+strconv.Quote(req.Op))
	}
}

func replError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if errors.Is(err, ErrConflict) {
		swiftError(w, http.StatusBadRequest, err.Error())
		return
	}
	storeError(w, r, log, err)
}

func writeJSON(w http.ResponseWriter, v any) {
	b := encodeJSON(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
