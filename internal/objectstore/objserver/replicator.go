package objserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Node is a device on a storage node, as the ring places it.
type Node struct {
	URL    string // e.g. "http://10.0.0.2:6200"
	Device string
}

// PeerFinder is the replicator's view of the ring. Peers returns the
// primary nodes of partition other than this node's device, and whether
// device is itself a primary (false: it holds a handoff copy to hand back).
type PeerFinder interface {
	Peers(device string, partition int) (nodes []Node, primary bool)
}

// Replicator keeps a node's partitions in step with their other replicas,
// as Swift's object-replicator: compare suffix hashes, push what differs,
// and drop handoff partitions once every primary has them.
type Replicator struct {
	s     *Store
	peers PeerFinder
}

// NewReplicator replicates the store's devices to the peers the ring names.
func NewReplicator(s *Store, peers PeerFinder) *Replicator {
	return &Replicator{s: s, peers: peers}
}

// ReplicatorStats counts one pass.
type ReplicatorStats struct {
	Partitions      int
	SuffixesSynced  int
	FilesPushed     int
	HandoffsRemoved int
	TmpRemoved      int
	Failures        int
}

// RunOnce makes one pass over every partition of every device.
func (rp *Replicator) RunOnce(ctx context.Context) (ReplicatorStats, error) {
	var st ReplicatorStats
	devs, err := rp.s.devices()
	if err != nil {
		return st, err
	}
	for _, dev := range devs {
		st.TmpRemoved += rp.s.cleanTmp(dev) + rp.s.cleanTrash(dev)
		ents, err := os.ReadDir(rp.s.objectsDir(dev))
		if err != nil {
			continue
		}
		for _, e := range ents {
			if err := ctx.Err(); err != nil {
				return st, err
			}
			if !e.IsDir() || !validPartition(e.Name()) {
				continue
			}
			st.Partitions++
			rp.replicatePartition(ctx, dev, e.Name(), &st)
		}
	}
	return st, nil
}

func (rp *Replicator) replicatePartition(ctx context.Context, dev, part string, st *ReplicatorStats) {
	s := rp.s
	partNum, _ := strconv.Atoi(part)
	nodes, primary := rp.peers.Peers(dev, partNum)
	local, err := s.suffixHashes(dev, part, nil)
	if err != nil {
		s.log.Warn("replicator: hash partition", "device", dev, "partition", part, "err", err)
		st.Failures++
		return
	}
	if len(local) == 0 {
		if !primary {
			s.dropHandoff(dev, part, local)
		}
		return
	}
	inSync := len(nodes) > 0
	for _, n := range nodes {
		if err := rp.syncNode(ctx, dev, part, n, local, st); err != nil {
			s.log.Warn("replicator: sync", "device", dev, "partition", part, "peer", n.URL+"/"+n.Device, "err", err)
			st.Failures++
			inSync = false
		}
	}
	if primary || !inSync {
		return
	}
	if s.dropHandoff(dev, part, local) {
		st.HandoffsRemoved++
	}
}

// dropHandoff removes a handoff partition whose suffix hashes were local
// when every primary was found in sync, and reports whether the partition
// is gone. It deletes only the files it listed before a rehash that still
// matched local, never the directory wholesale: a write that lands at any
// moment (the proxy may pick this handoff again) is kept for the next pass.
func (s *Store) dropHandoff(dev, part string, local map[string]string) bool {
	sfxs := make([]string, 0, len(local))
	for sfx := range local {
		sfxs = append(sfxs, sfx)
	}
	files, err := s.listSuffixes(dev, part, sfxs)
	if err != nil {
		return false
	}
	// Listed files that still exist now are ones the primaries have; a
	// file that arrived before this rehash changes it and stops the drop.
	now, err := s.suffixHashes(dev, part, sfxs)
	if err != nil || !sameHashes(now, local) {
		return false
	}
	if s.beforeHandoffDrop != nil {
		s.beforeHandoffDrop()
	}
	for hash, names := range files {
		dir := s.hashDir(dev, part, hash)
		mu := s.objLock(dir)
		mu.Lock()
		for _, name := range names {
			_ = os.Remove(filepath.Join(dir, name))
		}
		_, _ = s.scanHashDir(dir) // removes the directory once empty
		mu.Unlock()
	}
	// Under the partition lock no suffix can be invalidated meanwhile; the
	// hash cache goes too, so a partition that stays is fully rehashed.
	mu := s.partLock(dev, part)
	mu.Lock()
	defer mu.Unlock()
	pdir := s.partDir(dev, part)
	for _, name := range []string{hashesFile, hashesFile + ".tmp", invalidFile} {
		_ = os.Remove(filepath.Join(pdir, name))
	}
	s.takeInvalid(dev, part)
	err = os.Remove(pdir)
	return err == nil || errors.Is(err, fs.ErrNotExist)
}

// syncNode pushes to one peer every file of the suffixes whose hashes
// differ. It returns nil only when the peer has everything (or newer).
func (rp *Replicator) syncNode(ctx context.Context, dev, part string, n Node, local map[string]string, st *ReplicatorStats) error {
	remote, err := rp.remoteHashes(ctx, n, part, nil)
	if err != nil {
		return err
	}
	diff := differing(local, remote)
	if len(diff) == 0 {
		return nil
	}
	// The peer's cache may be stale: recompute just those before pushing.
	if remote, err = rp.remoteHashes(ctx, n, part, diff); err != nil {
		return err
	}
	if diff = differing(local, remote); len(diff) == 0 {
		return nil
	}
	var theirs map[string][]string
	if err := rp.call(ctx, methodSuffixList, n.URL+"/"+n.Device+"/"+part+"/"+strings.Join(diff, "-"), &theirs); err != nil {
		return err
	}
	mine, err := rp.s.listSuffixes(dev, part, diff)
	if err != nil {
		return err
	}
	var firstErr error
	for hash, files := range mine {
		have := map[string]bool{}
		for _, f := range theirs[hash] {
			have[f] = true
		}
		for _, f := range files { // base before meta
			if have[f] {
				continue
			}
			pushed, err := rp.push(ctx, n, dev, part, hash, f)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			if pushed {
				st.FilesPushed++
			}
		}
	}
	st.SuffixesSynced += len(diff)
	return firstErr
}

// push sends one file with SYNC; a 409 means the peer already has it or
// something newer, which is in sync too.
func (rp *Replicator) push(ctx context.Context, n Node, dev, part, hash, name string) (bool, error) {
	path := filepath.Join(rp.s.hashDir(dev, part, hash), name)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("%s was replaced during replication", path)
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return false, err
	}
	// Allow for the body at 10 MB/s on top of the node timeout.
	ctx, cancel := context.WithTimeout(ctx, rp.s.cfg.NodeTimeout+time.Duration(info.Size()/10e6)*time.Second)
	defer cancel()
	var body io.Reader = f
	if info.Size() == 0 {
		// A shared tombstone; a Body with ContentLength 0 would be sent
		// chunked, as of unknown length.
		body = http.NoBody
	}
	req, err := http.NewRequestWithContext(ctx, methodSync, n.URL+"/"+n.Device+"/"+part+"/"+hash+"/"+name, body)
	if err != nil {
		return false, err
	}
	req.ContentLength = info.Size()
	resp, err := rp.s.cfg.Client.Do(req)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusCreated:
		return true, nil
	case http.StatusConflict:
		return false, nil
	}
	return false, fmt.Errorf("SYNC %s/%s: %s", hash, name, resp.Status)
}

func (rp *Replicator) remoteHashes(ctx context.Context, n Node, part string, recalc []string) (map[string]string, error) {
	u := n.URL + "/" + n.Device + "/" + part
	if len(recalc) > 0 {
		u += "/" + strings.Join(recalc, "-")
	}
	var out map[string]string
	err := rp.call(ctx, methodReplicate, u, &out)
	return out, err
}

// call makes a bodiless backend request and decodes its JSON answer.
func (rp *Replicator) call(ctx context.Context, method, u string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, rp.s.cfg.NodeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return err
	}
	resp, err := rp.s.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s", method, u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// differing lists, in order, the local suffixes the peer hashes otherwise.
func differing(local, remote map[string]string) []string {
	var out []string
	for sfx, h := range local {
		if remote[sfx] != h {
			out = append(out, sfx)
		}
	}
	sort.Strings(out)
	return out
}

func sameHashes(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// cleanTmp removes files a crash left in <dev>/tmp. Only old ones: a
// younger file may be an upload in progress.
func (s *Store) cleanTmp(dev string) int {
	dir := s.tmpDir(dev)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	cutoff := s.now().Add(-s.cfg.TmpMaxAge)
	n := 0
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			continue
		}
		if os.RemoveAll(filepath.Join(dir, e.Name())) == nil {
			n++
		}
	}
	return n
}
