package compute

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"kumo/internal/compute/manager"
	"kumo/internal/compute/scheduler"
	"kumo/internal/compute/virt/simulated"
	"kumo/internal/placement"
	"kumo/internal/platform/db"
)

// simCloud is the test cloud with compute behind it: a real placement
// store (its own SQLite file), the real scheduler over simulated hosts
// registered in it, one real manager per host over a simulated driver,
// and an in-memory image catalog standing in for the image service.
type simCloud struct {
	*testCloud
	p       *placement.Store
	sched   *scheduler.Scheduler
	drivers map[string]*simulated.Driver
	mgrs    map[string]*manager.Manager
	images  *imageCatalog
	imageID string // an active public image of 1 MiB
}

func newSimCloud(t testing.TB, hosts int, mutate ...func(*Config)) *simCloud {
	t.Helper()
	tc := newTestCloud(t, mutate...)
	ctx := context.Background()
	pd, err := db.OpenSQLite(filepath.Join(tc.dir, "placement.db"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := placement.Open(ctx, pd)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := scheduler.NewSimulatedHosts(ctx, p, hosts, scheduler.DefaultSimulatedHost)
	if err != nil {
		t.Fatal(err)
	}
	sc := &simCloud{testCloud: tc, p: p, sched: scheduler.New(sim, p, scheduler.Config{}),
		drivers: map[string]*simulated.Driver{}, mgrs: map[string]*manager.Manager{}, images: newImageCatalog()}
	claims := tc.svc.PlacementClaims(p)
	deps := Deps{Hosts: map[string]ComputeHost{}, Scheduler: sc.sched, Claims: claims, Images: sc.images}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hs, _ := sim.Hosts(ctx)
	for _, h := range hs {
		drv := simulated.New(simulated.Config{})
		m := manager.New(drv, tc.svc.InstanceStore(), sc.images, claims, manager.Config{Host: h.Name,
			ShutdownTimeout: time.Second, SnapshotDir: tc.dir, Log: log})
		sc.drivers[h.Name], sc.mgrs[h.Name] = drv, m
		deps.Hosts[h.Name] = ComputeHost{Manager: m, Driver: drv}
	}
	tc.svc.UseCompute(deps)
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, m := range sc.mgrs {
			_ = m.Close(cctx)
		}
		p.Close()
		pd.Close()
	})
	sc.imageID = sc.images.add("", true, "active", 0, 0, bytes.Repeat([]byte("k"), 1<<20))
	return sc
}

// boot creates one server as token and returns its id.
func (sc *simCloud) boot(token, name string, extra map[string]any, hdr ...string) string {
	sc.t.Helper()
	srv := map[string]any{"name": name, "imageRef": sc.imageID, "flavorRef": "1", "networks": "none"}
	for k, v := range extra {
		srv[k] = v
	}
	r := sc.must(202, "POST", "/v2.1/servers", token, map[string]any{"server": srv}, append([]string{"mv", "2.37"}, hdr...)...)
	return str(r.json, "server", "id")
}

// waitStatus polls the server until its status is want (fails after
// timeout) and returns the last body.
func (sc *simCloud) waitStatus(token, id, want string, timeout time.Duration) map[string]any {
	sc.t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		r := sc.req("GET", "/v2.1/servers/"+id, token, nil, "mv", "2.93")
		if r.status == 200 {
			last = str(r.json, "server", "status")
			if last == want && str(r.json, "server", "OS-EXT-STS:task_state") == "" {
				return r.json["server"].(map[string]any)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	sc.t.Fatalf("server %s: status %s after %v, want %s", id, last, timeout, want)
	return nil
}

// waitGone polls until the server is not found.
func (sc *simCloud) waitGone(token, id string, timeout time.Duration) {
	sc.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if sc.req("GET", "/v2.1/servers/"+id, token, nil).status == 404 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	sc.t.Fatalf("server %s still there after %v", id, timeout)
}

// imageCatalog is an in-memory image service for these tests: real bytes
// with real checksums (the simulated driver verifies them), visibility
// by owner, statuses, and snapshot records.
type imageCatalog struct {
	mu     sync.Mutex
	images map[string]*catalogImage
}

type catalogImage struct {
	id, owner, status, name string
	public                  bool
	minDisk, minRAM         int
	data                    []byte
	props                   map[string]string
}

func newImageCatalog() *imageCatalog { return &imageCatalog{images: map[string]*catalogImage{}} }

func (ic *imageCatalog) add(owner string, public bool, status string, minDisk, minRAM int, data []byte) string {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	id := newUUID()
	ic.images[id] = &catalogImage{id: id, owner: owner, public: public, status: status, minDisk: minDisk,
		minRAM: minRAM, data: data}
	return id
}

func (ic *imageCatalog) visible(project, id string) (*catalogImage, error) {
	im, ok := ic.images[id]
	if !ok || !im.public && im.owner != project {
		return nil, ErrImageNotFound
	}
	return im, nil
}

func (ic *imageCatalog) Status(ctx context.Context, project, id string) (string, error) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	im, err := ic.visible(project, id)
	if err != nil {
		return "", err
	}
	return im.status, nil
}

func (ic *imageCatalog) Image(ctx context.Context, project, id string) (manager.ImageInfo, error) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	im, err := ic.visible(project, id)
	if err != nil {
		return manager.ImageInfo{}, err
	}
	sum := md5.Sum(im.data)
	data := im.data
	info := manager.ImageInfo{MinDisk: im.minDisk, MinRAM: im.minRAM, Properties: im.props}
	info.ID, info.DiskFormat, info.Size, info.Checksum = id, "qcow2", int64(len(data)), hex.EncodeToString(sum[:])
	info.Open = func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	return info, nil
}

func (ic *imageCatalog) CreateSnapshot(ctx context.Context, project, name string, props map[string]string) (string, error) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	id := newUUID()
	ic.images[id] = &catalogImage{id: id, owner: project, status: "queued", name: name, props: props}
	return id, nil
}

func (ic *imageCatalog) UploadSnapshot(ctx context.Context, project, id string, data io.Reader, size int64) error {
	b, err := io.ReadAll(data)
	if err != nil {
		return err
	}
	ic.mu.Lock()
	defer ic.mu.Unlock()
	im, ok := ic.images[id]
	if !ok {
		return fmt.Errorf("image %s: %w", id, ErrImageNotFound)
	}
	if int64(len(b)) != size {
		return fmt.Errorf("image %s: got %d bytes, want %d", id, len(b), size)
	}
	im.data, im.status = b, "active"
	return nil
}

func (ic *imageCatalog) DeleteImage(ctx context.Context, project, id string) error {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	delete(ic.images, id)
	return nil
}

func (ic *imageCatalog) get(id string) *catalogImage {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	return ic.images[id]
}

func (sc *simCloud) ctx() context.Context { return context.Background() }
