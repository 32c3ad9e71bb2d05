package manager

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"kumo/internal/compute/virt"
)

// memStore is a TEST-ONLY in-memory Store. It records every (vm_state,
// task_state) an instance passes through, so tests compare the sequence
// with Nova's.
type memStore struct {
	mu    sync.Mutex
	insts map[string]*memInst
	// failUpdate, when set, is asked before each update (tests inject
	// store failures with it).
	failUpdate func(uuid string, u Update) error
	// slowReads delays every Instance read, so that racing callers all
	// read before any of them writes (nanoseconds).
	slowReads atomic.Int64
}

type memInst struct {
	st      State
	deleted bool
	flavor  string // current flavor name; old/new as Nova's old_flavor/new_flavor
	old     string
	new     string
	faults  []Fault
	events  []memEvent
	history []string
}

type memEvent struct {
	rid, name, result, traceback string
	start, finish                time.Time
}

func newMemStore() *memStore { return &memStore{insts: map[string]*memInst{}} }

func label(vm, task string) string {
	if task == TaskNone {
		task = "None"
	}
	return vm + "/" + task
}

// add stores a live instance in (vm, task).
func (s *memStore) add(st State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.insts[st.UUID] = &memInst{st: st, flavor: "m1.tiny", history: []string{label(st.VMState, st.TaskState)}}
}

func (s *memStore) get(uuid string) memInst {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.insts[uuid]
	if in == nil {
		return memInst{}
	}
	c := *in
	c.history = slices.Clone(in.history)
	c.faults = slices.Clone(in.faults)
	c.events = slices.Clone(in.events)
	return c
}

// resetHistory starts a new recording from the current state.
func (s *memStore) resetHistory(uuid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.insts[uuid]
	in.history = []string{label(in.st.VMState, in.st.TaskState)}
	in.events = nil
	in.faults = nil
}

func (s *memStore) Instance(ctx context.Context, uuid string) (State, error) {
	if d := s.slowReads.Load(); d > 0 {
		defer time.Sleep(time.Duration(d))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.insts[uuid]
	if !ok || in.deleted {
		return State{}, ErrNotFound
	}
	return in.st, nil
}

func (s *memStore) Instances(ctx context.Context, host string) ([]State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []State
	for _, in := range s.insts {
		if !in.deleted && (in.st.Host == host || in.st.Host == "") {
			out = append(out, in.st)
		}
	}
	slices.SortFunc(out, func(a, b State) int { return compareStrings(a.UUID, b.UUID) })
	return out, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *memStore) Update(ctx context.Context, uuid string, u Update) error {
	if s.failUpdate != nil {
		if err := s.failUpdate(uuid, u); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.insts[uuid]
	if !ok || in.deleted {
		return ErrNotFound
	}
	if u.Expected != nil && !slices.Contains(u.Expected, in.st.TaskState) {
		return fmt.Errorf("%w: expecting %q but the actual state is %q", ErrUnexpectedTaskState, u.Expected, in.st.TaskState)
	}
	if u.ExpectedVMStates != nil && !slices.Contains(u.ExpectedVMStates, in.st.VMState) {
		return fmt.Errorf("%w: expecting vm_state %q but it is %q", ErrUnexpectedTaskState, u.ExpectedVMStates, in.st.VMState)
	}
	if u.VMState != "" {
		in.st.VMState = u.VMState
	}
	if u.Fault != nil {
		in.faults = append(in.faults, *u.Fault)
	}
	if u.TaskState != nil {
		in.st.TaskState = *u.TaskState
	}
	if u.PowerState != nil {
		in.st.PowerState = *u.PowerState
	}
	if u.ClearHost {
		in.st.Host = ""
	}
	if u.Host != "" {
		in.st.Host = u.Host
	}
	if !u.LaunchedAt.IsZero() {
		in.st.LaunchedAt = u.LaunchedAt
	}
	if !u.TerminatedAt.IsZero() {
		in.st.TerminatedAt = u.TerminatedAt
	}
	switch u.Flavor {
	case FlavorUseNew:
		in.old, in.flavor = in.flavor, in.new
	case FlavorUseOld:
		if in.old != "" {
			in.flavor = in.old
		}
		in.old, in.new = "", ""
	case FlavorDropOld:
		in.old, in.new = "", ""
	}
	if in.st.VMState == VMDeleted {
		in.deleted = true
	}
	if l := label(in.st.VMState, in.st.TaskState); l != in.history[len(in.history)-1] {
		in.history = append(in.history, l)
	}
	return nil
}

func (s *memStore) AddFault(ctx context.Context, uuid string, f Fault) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.insts[uuid]
	if !ok {
		return ErrNotFound
	}
	in.faults = append(in.faults, f)
	return nil
}

func (s *memStore) StartEvent(ctx context.Context, uuid, rid, name string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.insts[uuid]
	if !ok {
		return ErrNotFound
	}
	in.events = append(in.events, memEvent{rid: rid, name: name, start: at})
	return nil
}

func (s *memStore) FinishEvent(ctx context.Context, uuid, rid, name string, at time.Time, result, tb string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.insts[uuid]
	if !ok {
		return ErrNotFound
	}
	for i := len(in.events) - 1; i >= 0; i-- {
		e := &in.events[i]
		if e.rid == rid && e.name == name && e.finish.IsZero() {
			e.finish, e.result, e.traceback = at, result, tb
			return nil
		}
	}
	return fmt.Errorf("event %s of %s was never started", name, rid)
}

// eventList is "name:result" of every event, in order.
func (in memInst) eventList() []string {
	var out []string
	for _, e := range in.events {
		out = append(out, e.name+":"+e.result)
	}
	return out
}

// memImages is a TEST-ONLY image service: images are byte strings.
type memImages struct {
	mu       sync.Mutex
	images   map[string]ImageInfo
	data     map[string][]byte
	uploaded map[string][]byte
	deleted  []string
	failGet  error
	failPut  error
}

func newMemImages() *memImages {
	return &memImages{images: map[string]ImageInfo{}, data: map[string][]byte{}, uploaded: map[string][]byte{}}
}

func (im *memImages) put(id string, data []byte, minRAM, minDisk int) {
	im.mu.Lock()
	defer im.mu.Unlock()
	sum := md5.Sum(data)
	im.data[id] = data
	im.images[id] = ImageInfo{Image: virt.Image{ID: id, DiskFormat: "raw", Size: int64(len(data)),
		Checksum: hex.EncodeToString(sum[:]),
		Open: func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		}}, MinRAM: minRAM, MinDisk: minDisk}
}

func (im *memImages) Image(ctx context.Context, project, id string) (ImageInfo, error) {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.failGet != nil {
		return ImageInfo{}, im.failGet
	}
	img, ok := im.images[id]
	if !ok {
		return ImageInfo{}, fmt.Errorf("image %s could not be found", id)
	}
	return img, nil
}

func (im *memImages) UploadSnapshot(ctx context.Context, project, id string, r io.Reader, size int64) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.failPut != nil {
		return im.failPut
	}
	if int64(len(b)) != size {
		return fmt.Errorf("upload: %d bytes, announced %d", len(b), size)
	}
	im.uploaded[id] = b
	return nil
}

func (im *memImages) DeleteImage(ctx context.Context, project, id string) error {
	im.mu.Lock()
	defer im.mu.Unlock()
	im.deleted = append(im.deleted, id)
	return nil
}

// memClaims is a TEST-ONLY claims recorder.
type memClaims struct {
	mu    sync.Mutex
	calls []string // "release:<uuid>", "confirm:<uuid>", "revert:<uuid>"
	fail  error
}

func (c *memClaims) record(op, uuid string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return c.fail
	}
	c.calls = append(c.calls, op+":"+uuid)
	return nil
}

func (c *memClaims) Release(ctx context.Context, uuid string) error { return c.record("release", uuid) }
func (c *memClaims) ConfirmResize(ctx context.Context, uuid string) error {
	return c.record("confirm", uuid)
}
func (c *memClaims) RevertResize(ctx context.Context, uuid string) error {
	return c.record("revert", uuid)
}

func (c *memClaims) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

var errTest = errors.New("injected test failure")

// filepathGlob lists the files in dir.
func filepathGlob(dir string) ([]string, error) { return filepath.Glob(filepath.Join(dir, "*")) }

// addQCOW2 offers data as qcow2 image id, with Glance's checksums.
func (m *memImages) addQCOW2(id string, data []byte) {
	m5, s5 := md5.Sum(data), sha512.Sum512(data)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.images[id] = ImageInfo{Image: virt.Image{ID: id, DiskFormat: "qcow2", Size: int64(len(data)),
		Checksum: hex.EncodeToString(m5[:]), HashAlgo: "sha512", HashValue: hex.EncodeToString(s5[:]),
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}}
}
