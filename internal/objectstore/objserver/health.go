package objserver

import (
	"net/http"
	"os"
	"syscall"
)

// healthcheck answers Swift's healthcheck middleware: 200 "OK".
func (srv *Server) healthcheck(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		fail(w, http.StatusMethodNotAllowed, "")
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write([]byte("OK"))
	}
}

// reconDisk is one entry of /recon/diskusage, as Swift's recon middleware.
type reconDisk struct {
	Device  string `json:"device"`
	Mounted bool   `json:"mounted"`
	Size    int64  `json:"size"`
	Used    int64  `json:"used"`
	Avail   int64  `json:"avail"`
}

// recon serves a minimal subset of Swift's recon: diskusage, async and
// quarantined.
func (srv *Server) recon(w http.ResponseWriter, r *http.Request) {
	s := srv.s
	switch r.URL.Path {
	case "/recon/diskusage":
		ents, _ := os.ReadDir(s.cfg.Root)
		out := []reconDisk{}
		for _, e := range ents {
			if !e.IsDir() || e.Name() == journalDirName {
				continue
			}
			d := reconDisk{Device: e.Name(), Mounted: s.checkDevice(e.Name()) == nil}
			var st syscall.Statfs_t
			if d.Mounted && syscall.Statfs(s.devPath(e.Name()), &st) == nil {
				d.Size = int64(st.Blocks) * int64(st.Bsize)
				d.Avail = int64(st.Bavail) * int64(st.Bsize)
				d.Used = d.Size - int64(st.Bfree)*int64(st.Bsize)
			}
			out = append(out, d)
		}
		writeJSON(w, out)
	case "/recon/async":
		writeJSON(w, map[string]int{"async_pending": s.pendingCount()})
	case "/recon/quarantined":
		n := 0
		devs, _ := s.devices()
		for _, d := range devs {
			ents, _ := os.ReadDir(s.quarantine(d))
			n += len(ents)
		}
		writeJSON(w, map[string]int{"objects": n})
	default:
		fail(w, http.StatusNotFound, "")
	}
}
