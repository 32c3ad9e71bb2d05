package containerserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Node is one replica's storage server: its host:port and device.
type Node struct {
	Addr   string
	Device string
}

// AccountLocator tells the updater where an account's replicas live (the
// account ring). Declared here, where it is used; the ring package or the
// wiring in cmd/kumo implements it.
type AccountLocator interface {
	AccountNodes(account string) (part int, nodes []Node, err error)
}

// Updater reports container counters and timestamps to the account
// servers, as Swift's container updater does. The pending state is the
// container database itself (current values differ from the last reported
// ones), so a report lost to a crash or an unreachable account server is
// retried by the next sweep.
type Updater struct {
	store   *Store
	locator AccountLocator
	client  *http.Client
	log     *slog.Logger

	mu      sync.Mutex
	pending map[string]struct{}
	wake    chan struct{}
}

// NewUpdater returns an updater for the store's containers. locator may be
// nil: then each container reports to the X-Account-* hosts its last PUT
// named. client nil means a client with a 10 s timeout.
func NewUpdater(store *Store, locator AccountLocator, client *http.Client, log *slog.Logger) *Updater {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Updater{store: store, locator: locator, client: client, log: log,
		pending: map[string]struct{}{}, wake: make(chan struct{}, 1)}
}

// Notify queues a container database for a prompt report.
func (u *Updater) Notify(path string) {
	u.mu.Lock()
	u.pending[path] = struct{}{}
	u.mu.Unlock()
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// notifyDelay gathers a burst of updates to one container into one report.
// Each report is an fsynced account transaction per container replica: at
// 50 ms, a stream of small PUTs cost about 1 ms of CPU per PUT in account
// updates; at 1 s, a twentieth of that. Swift reports only every 300 s
// (the container updater's interval); the account still hears within a
// second here.
const notifyDelay = time.Second

// Run reports notified containers shortly after they change and sweeps
// every container every interval, until ctx ends.
func (u *Updater) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-u.wake:
			select {
			case <-ctx.Done():
				return
			case <-time.After(notifyDelay):
			}
			if err := u.Flush(ctx); err != nil {
				u.log.Warn("container update failed; the sweep will retry", "err", err)
			}
		case <-t.C:
			if _, _, err := u.RunOnce(ctx); err != nil {
				u.log.Warn("container updater sweep", "err", err)
			}
		}
	}
}

// Flush reports every notified container now. Failed ones stay pending in
// their database for the next sweep.
func (u *Updater) Flush(ctx context.Context) error {
	u.mu.Lock()
	paths := make([]string, 0, len(u.pending))
	for p := range u.pending {
		paths = append(paths, p)
	}
	u.pending = map[string]struct{}{}
	u.mu.Unlock()
	var errs []error
	for _, p := range paths {
		if _, err := u.report(ctx, p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RunOnce walks every container database on every device and reports the
// ones the account has not heard yet.
func (u *Updater) RunOnce(ctx context.Context) (reported, failed int, err error) {
	paths, err := filepath.Glob(filepath.Join(u.store.root, "*", string(KindContainer), "*", "*", "*", "*.db"))
	if err != nil {
		return 0, 0, err
	}
	for _, p := range paths {
		if ctx.Err() != nil {
			return reported, failed, ctx.Err()
		}
		sent, err := u.report(ctx, p)
		if err != nil {
			failed++
			u.log.Warn("container update failed", "db", p, "err", err)
			continue
		}
		if sent {
			reported++
		}
	}
	return reported, failed, nil
}

// report sends one container's stat to its account replicas if needed and
// records it as reported when a majority accepted it.
func (u *Updater) report(ctx context.Context, path string) (sent bool, err error) {
	d, release, err := u.store.handle(path, false, KindContainer, nil)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer release()
	info, err := readContainerInfo(ctx, d.R)
	if err != nil {
		return false, err
	}
	if !info.needsReport() || info.PutTimestamp == zeroTimestamp {
		return false, nil
	}
	part, nodes, err := u.accountNodes(info)
	if err != nil {
		return false, err
	}
	if len(nodes) == 0 {
		return false, fmt.Errorf("no account servers known for %s", info.Account)
	}
	ok := 0
	var errs []error
	for _, n := range nodes {
		if err := u.send(ctx, n, part, info); err != nil {
			errs = append(errs, err)
			continue
		}
		ok++
	}
	if ok < len(nodes)/2+1 {
		return false, fmt.Errorf("account update of %s/%s: %d of %d accepted: %w", info.Account, info.Container, ok, len(nodes), errors.Join(errs...))
	}
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE info SET reported_put_timestamp = ?, reported_delete_timestamp = ?,
			reported_object_count = ?, reported_bytes_used = ? WHERE id = 1`,
			info.PutTimestamp, info.DeleteTimestamp, info.ObjectCount, info.BytesUsed)
		return err
	})
	return err == nil, err
}

func (u *Updater) accountNodes(info ContainerInfo) (int, []Node, error) {
	if u.locator != nil {
		return u.locator.AccountNodes(info.Account)
	}
	partS, rest, ok1 := strings.Cut(info.accountHosts, "|")
	hostsS, devsS, ok2 := strings.Cut(rest, "|")
	part, err := strconv.Atoi(partS)
	if !ok1 || !ok2 || err != nil {
		return 0, nil, nil
	}
	hosts, devs := strings.Split(hostsS, ","), strings.Split(devsS, ",")
	var nodes []Node
	for i, h := range hosts {
		if i < len(devs) {
			nodes = append(nodes, Node{Addr: strings.TrimSpace(h), Device: strings.TrimSpace(devs[i])})
		}
	}
	return part, nodes, nil
}

func (u *Updater) send(ctx context.Context, n Node, part int, info ContainerInfo) error {
	target := "http://" + n.Addr + "/" + url.PathEscape(n.Device) + "/" + strconv.Itoa(part) + "/" +
		url.PathEscape(info.Account) + "/" + url.PathEscape(info.Container)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, target, nil)
	if err != nil {
		return err
	}
	h := req.Header
	h.Set("X-Put-Timestamp", info.PutTimestamp.Internal())
	h.Set("X-Delete-Timestamp", info.DeleteTimestamp.Internal())
	h.Set("X-Object-Count", strconv.FormatInt(info.ObjectCount, 10))
	h.Set("X-Bytes-Used", strconv.FormatInt(info.BytesUsed, 10))
	h.Set("X-Backend-Storage-Policy-Index", strconv.Itoa(info.PolicyIndex))
	// The report's own time lets the account keep the latest counters
	// whatever order reports arrive in.
	h.Set("X-Timestamp", Now().Internal())
	resp, err := u.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", target, resp.Status)
	}
	return nil
}
