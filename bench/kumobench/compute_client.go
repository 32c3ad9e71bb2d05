package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// login gets a project-scoped password token, the project's id and the
// public compute and image endpoints (both must be on loopback).
func (b *computeBench) login(ctx context.Context) error {
	var body struct {
		Token struct {
			Project struct {
				ID string `json:"id"`
			} `json:"project"`
			Catalog []struct {
				Type      string `json:"type"`
				Endpoints []struct {
					Interface string `json:"interface"`
					URL       string `json:"url"`
				} `json:"endpoints"`
			} `json:"catalog"`
		} `json:"token"`
	}
	tok, err := b.authToken(ctx, b.c.passwordBody(), &body)
	if err != nil {
		return err
	}
	b.token, b.projectID = tok, body.Token.Project.ID
	for _, s := range body.Token.Catalog {
		for _, e := range s.Endpoints {
			if e.Interface != "public" {
				continue
			}
			switch s.Type {
			case "compute":
				b.nova = strings.TrimRight(e.URL, "/")
			case "image":
				b.glance = strings.TrimSuffix(strings.TrimRight(e.URL, "/"), "/v2")
			}
		}
	}
	for typ, u := range map[string]string{"compute": b.nova, "image": b.glance} {
		if u == "" {
			return fmt.Errorf("no public %s endpoint in the catalog", typ)
		}
		if err := onLoopback(u); err != nil {
			return err
		}
	}
	return nil
}

// onLoopback refuses endpoints this benchmark would load off the machine.
func onLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%s is not on loopback: refusing to load it", raw)
	}
	return nil
}

// authToken posts body to /v3/auth/tokens and decodes the answer into out.
func (b *computeBench) authToken(ctx context.Context, body []byte, out any) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.c.authURL+"/auth/tokens", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("token: status %d: %.200s", resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return "", fmt.Errorf("token answer: %w", err)
		}
	}
	return resp.Header.Get("X-Subject-Token"), nil
}

// call sends a JSON (or empty) request with token; it returns the status
// and the body. Compute requests carry the microversion.
func (b *computeBench) call(ctx context.Context, token, method, u string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("X-Auth-Token", token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if strings.HasPrefix(u, b.nova) {
		req.Header.Set("OpenStack-API-Version", "compute "+b.micro)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	return resp.StatusCode, raw, err
}

// want calls and decodes a JSON answer of status code into out (nil: none).
func (b *computeBench) want(ctx context.Context, code int, method, u string, body, out any) error {
	got, raw, err := b.call(ctx, b.token, method, u, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	if got != code {
		return fmt.Errorf("%s %s: status %d, want %d: %.300s", method, u, got, code, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, u, err)
		}
	}
	return nil
}

// raiseLimits sets the project's unified limits of the compute resources
// (Keystone /v3/limits needs a system-scoped token): creates the limits,
// or updates the ones the project already has.
func (b *computeBench) raiseLimits(ctx context.Context, limits map[string]int64) error {
	sysBody, _ := json.Marshal(map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": map[string]any{
			"name": b.c.user, "domain": map[string]string{"name": b.c.userDomain}, "password": b.c.password}}},
		"scope": map[string]any{"system": map[string]bool{"all": true}},
	}})
	sys, err := b.authToken(ctx, sysBody, nil)
	if err != nil {
		return fmt.Errorf("system token: %w", err)
	}
	ks := b.c.authURL
	var svcs struct {
		Services []struct {
			ID string `json:"id"`
		} `json:"services"`
	}
	if err := b.sysWant(ctx, sys, http.StatusOK, "GET", ks+"/services?type=compute", nil, &svcs); err != nil {
		return err
	}
	if len(svcs.Services) != 1 {
		return fmt.Errorf("%d services of type compute, want 1", len(svcs.Services))
	}
	svc := svcs.Services[0].ID
	var have struct {
		Limits []struct {
			ID           string `json:"id"`
			ResourceName string `json:"resource_name"`
		} `json:"limits"`
	}
	q := url.Values{"service_id": {svc}, "project_id": {b.projectID}, "region_id": {"RegionOne"}}
	if err := b.sysWant(ctx, sys, http.StatusOK, "GET", ks+"/limits?"+q.Encode(), nil, &have); err != nil {
		return err
	}
	existing := map[string]string{}
	for _, l := range have.Limits {
		existing[l.ResourceName] = l.ID
	}
	var create []map[string]any
	for res, n := range limits {
		if id, ok := existing[res]; ok {
			body := map[string]any{"limit": map[string]any{"resource_limit": n}}
			if err := b.sysWant(ctx, sys, http.StatusOK, "PATCH", ks+"/limits/"+id, body, nil); err != nil {
				return err
			}
			continue
		}
		create = append(create, map[string]any{"service_id": svc, "project_id": b.projectID, "region_id": "RegionOne",
			"resource_name": res, "resource_limit": n})
	}
	if len(create) == 0 {
		return nil
	}
	return b.sysWant(ctx, sys, http.StatusCreated, "POST", ks+"/limits", map[string]any{"limits": create}, nil)
}

func (b *computeBench) sysWant(ctx context.Context, tok string, code int, method, u string, body, out any) error {
	save := b.token
	b.token = tok
	defer func() { b.token = save }()
	return b.want(ctx, code, method, u, body, out)
}

// uploadImage creates an image and uploads data to it; it returns its id
// once the image service answered 204 (the image is then active).
func (b *computeBench) uploadImage(ctx context.Context, name, diskFormat string, data io.Reader, size int64) (string, error) {
	var img struct {
		ID string `json:"id"`
	}
	err := b.want(ctx, http.StatusCreated, "POST", b.glance+"/v2/images",
		map[string]any{"name": name, "disk_format": diskFormat, "container_format": "bare"}, &img)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, b.glance+"/v2/images/"+img.ID+"/file", data)
	if err != nil {
		return "", err
	}
	req.ContentLength = size
	req.Header.Set("X-Auth-Token", b.token)
	req.Header.Set("Content-Type", "application/octet-stream")
	hc := &http.Client{Timeout: 10 * time.Minute}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusNoContent {
		return "", fmt.Errorf("image upload: status %d: %.300s", resp.StatusCode, raw)
	}
	return img.ID, nil
}

// smallImage uploads 1 MiB of zeros as a raw image: enough for the
// simulated driver, which never reads it.
func (b *computeBench) smallImage(ctx context.Context) (string, error) {
	const size = 1 << 20
	return b.uploadImage(ctx, "kumobench-sim", "raw", bytes.NewReader(make([]byte, size)), size)
}

// serverReq is a POST /servers body: count instances of flavor from image,
// no network (2.37+).
func serverReq(name, image, flavor string, count int) map[string]any {
	s := map[string]any{"name": name, "imageRef": image, "flavorRef": flavor, "networks": "none"}
	if count > 1 {
		s["min_count"], s["max_count"], s["return_reservation_id"] = count, count, true
	}
	return map[string]any{"server": s}
}

// createServers posts one create request; it returns the new server's id
// (count 1) or the reservation id (count > 1).
func (b *computeBench) createServers(ctx context.Context, name, image, flavor string, count int) (string, error) {
	var ans struct {
		Server struct {
			ID string `json:"id"`
		} `json:"server"`
		ReservationID string `json:"reservation_id"`
	}
	if err := b.want(ctx, http.StatusAccepted, "POST", b.nova+"/servers", serverReq(name, image, flavor, count), &ans); err != nil {
		return "", err
	}
	if count > 1 {
		if ans.ReservationID == "" {
			return "", fmt.Errorf("POST /servers of %d: no reservation_id", count)
		}
		return ans.ReservationID, nil
	}
	if ans.Server.ID == "" {
		return "", fmt.Errorf("POST /servers: no server id")
	}
	return ans.Server.ID, nil
}

// serverRow is what the benchmarks read of a server in a detailed list.
type serverRow struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	LaunchedAt string `json:"OS-SRV-USG:launched_at"`
	Host       string `json:"OS-EXT-SRV-ATTR:host"`
	Fault      *struct {
		Message string `json:"message"`
	} `json:"fault"`
}

// launched parses launched_at (Nova's UTC time without a zone).
func (r serverRow) launched() (time.Time, bool) {
	t, err := time.Parse("2006-01-02T15:04:05.999999", r.LaunchedAt)
	return t, err == nil
}

// listAll walks every page of path (a /servers or /servers/detail query)
// with limit, following the servers_links next link; it returns the rows,
// the number of pages and each page's latency.
func (b *computeBench) listAll(ctx context.Context, path string, limit int) ([]serverRow, int, []time.Duration, error) {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	u := fmt.Sprintf("%s%s%slimit=%d", b.nova, path, sep, limit)
	var rows []serverRow
	var lat []time.Duration
	for pages := 1; pages <= 100000; pages++ {
		var page struct {
			Servers []serverRow `json:"servers"`
			Links   []struct {
				Rel  string `json:"rel"`
				Href string `json:"href"`
			} `json:"servers_links"`
		}
		// A page's latency is request to last byte, as the list steps';
		// decoding the answer here is the client's own time.
		t0 := time.Now()
		got, raw, err := b.call(ctx, b.token, "GET", u, nil)
		lat = append(lat, time.Since(t0))
		if err == nil && got != http.StatusOK {
			err = fmt.Errorf("status %d, want 200: %.300s", got, raw)
		}
		if err == nil {
			err = json.Unmarshal(raw, &page)
		}
		if err != nil {
			return rows, pages, lat[:len(lat)-1], fmt.Errorf("GET %s: %w", u, err)
		}
		rows = append(rows, page.Servers...)
		next := ""
		for _, l := range page.Links {
			if l.Rel == "next" {
				next = l.Href
			}
		}
		if next == "" {
			return rows, pages, lat, nil
		}
		if err := onLoopback(next); err != nil {
			return rows, pages, lat, err
		}
		u = next
	}
	return rows, 0, lat, fmt.Errorf("%s: more than 100000 pages", path)
}

// countStatus counts the project's servers in status (the short list: one
// id, name and links per server), paging by 1000.
func (b *computeBench) countStatus(ctx context.Context, query string) (int, error) {
	path := "/servers"
	if query != "" {
		path += "?" + query
	}
	rows, _, _, err := b.listAll(ctx, path, 1000)
	return len(rows), err
}

// waitNone polls query (e.g. status=BUILD) every poll until no server
// matches; it returns when that was first seen.
func (b *computeBench) waitNone(ctx context.Context, query string, poll, limit time.Duration) (time.Time, error) {
	end := time.Now().Add(limit)
	for {
		n, err := b.countStatus(ctx, query)
		if err != nil {
			return time.Time{}, err
		}
		if n == 0 {
			return time.Now(), nil
		}
		if time.Now().After(end) {
			return time.Time{}, fmt.Errorf("still %d servers with %s after %s", n, query, limit)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// statusCounts tallies rows by status; lastLaunch is the newest launched_at.
func statusCounts(rows []serverRow) (counts map[string]int, lastLaunch time.Time, fault string) {
	counts = map[string]int{}
	for _, r := range rows {
		counts[r.Status]++
		if t, ok := r.launched(); ok && t.After(lastLaunch) {
			lastLaunch = t
		}
		if r.Fault != nil && fault == "" {
			fault = r.Fault.Message
		}
	}
	return counts, lastLaunch, fault
}
