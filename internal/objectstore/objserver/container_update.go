package objserver

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// updateTarget is one container server replica to tell about a change,
// from the proxy's X-Container-Host/Device/Partition headers.
type updateTarget struct {
	Host      string `json:"host"`
	Device    string `json:"device"`
	Partition string `json:"partition"`
}

// keyUpdateTargets keeps the targets in a .data file's metadata (never
// served) for the Expirer.
const keyUpdateTargets = "X-Backend-Container-Update-Targets"

// updateTargets pairs the comma-separated hosts and devices of the proxy's
// headers, as Swift does.
func updateTargets(h http.Header) []updateTarget {
	hosts := splitList(h.Get("X-Container-Host"))
	devs := splitList(h.Get("X-Container-Device"))
	part := strings.TrimSpace(h.Get("X-Container-Partition"))
	if len(hosts) == 0 || len(hosts) != len(devs) || !validPartition(part) {
		return nil
	}
	out := make([]updateTarget, len(hosts))
	for i := range hosts {
		out[i] = updateTarget{Host: hosts[i], Device: devs[i], Partition: part}
	}
	return out
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func encodeTargets(t []updateTarget) string {
	b, _ := json.Marshal(t)
	return string(b)
}

func decodeTargets(v string) []updateTarget {
	var t []updateTarget
	if json.Unmarshal([]byte(v), &t) != nil {
		return nil
	}
	return t
}

// pendingUpdate is one container update, sent now or saved in
// <dev>/async_pending/<suffix>/<hash>-<timestamp>-<target> for the Updater.
type pendingUpdate struct {
	Op        string            `json:"op"`
	Account   string            `json:"account"`
	Container string            `json:"container"`
	Object    string            `json:"obj"`
	Headers   map[string]string `json:"headers"`
	Target    updateTarget      `json:"target"`
}

// updateContainers tells every target about a PUT or DELETE. It waits up to
// UpdateTimeout, as Swift's object server does, so a healthy cluster lists
// the object as soon as the client hears 201; a slower or failed update
// carries on in the background and ends in an async pending file.
func (s *Store) updateContainers(o objReq, op string, ts Timestamp, extra map[string]string, targets []updateTarget) {
	if len(targets) == 0 {
		return
	}
	done := make(chan struct{}, len(targets))
	for _, t := range targets {
		hdr := map[string]string{"X-Timestamp": ts.Internal()}
		for k, v := range extra {
			hdr[k] = v
		}
		u := pendingUpdate{Op: op, Account: o.account, Container: o.container, Object: o.object, Headers: hdr, Target: t}
		s.updates.Add(1)
		go func() {
			defer s.updates.Done()
			defer func() { done <- struct{}{} }()
			if err := s.sendUpdate(context.Background(), u); err != nil {
				s.log.Warn("container update failed; saving async pending", "target", t.Host, "err", err)
				if err := s.savePending(o.dev, o.hash, ts, u); err != nil {
					s.log.Error("save async pending", "err", err)
				}
			}
		}()
	}
	timer := time.NewTimer(s.cfg.UpdateTimeout)
	defer timer.Stop()
	for range targets {
		select {
		case <-done:
		case <-timer.C:
			return
		}
	}
}

// sendUpdate makes the container server call.
func (s *Store) sendUpdate(ctx context.Context, u pendingUpdate) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.NodeTimeout)
	defer cancel()
	target := &url.URL{Scheme: "http", Host: u.Target.Host,
		Path: "/" + u.Target.Device + "/" + u.Target.Partition + "/" + u.Account + "/" + u.Container + "/" + u.Object}
	req, err := http.NewRequestWithContext(ctx, u.Op, target.String(), nil)
	if err != nil {
		return err
	}
	for k, v := range u.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Referer", u.Op+" "+target.String())
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("container server answered %s", resp.Status)
	}
	return nil
}

func (s *Store) savePending(dev, hash string, ts Timestamp, u pendingUpdate) error {
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	t := md5.Sum([]byte(u.Target.Host + "/" + u.Target.Device))
	name := hash + "-" + ts.Internal() + "-" + hex.EncodeToString(t[:4])
	return s.writeFile(dev, filepath.Join(s.asyncDir(dev), suffixOf(hash)), name, b)
}
