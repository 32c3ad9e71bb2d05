package compute

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"kumo/internal/platform/httpapi"
)

// Simple tenant usage (nova/api/openstack/compute/simple_tenant_usage.py):
// per project, the hours its instances ran in a window [start, end]
// (end capped at now) and those hours weighted by vCPUs, memory and disk.
// From 2.40 the instances are paged with limit and marker (an instance
// uuid).
func init() {
	register(
		route{method: "GET", path: "/os-simple-tenant-usage", query: usageQuery(true), rule: "os_compute_api:os-simple-tenant-usage:list", handle: listTenantUsage},
		route{method: "GET", path: "/os-simple-tenant-usage/{tenant_id}", query: usageQuery(false), handle: showTenantUsage},
	)
}

func usageQuery(index bool) func(mv Microversion) *Schema {
	return func(mv Microversion) *Schema {
		str := func() *Schema { return multi(&Schema{Type: Types("string")}) }
		props := []Prop{{"start", str()}, {"end", str()}}
		if index {
			props = append(props, Prop{"detailed", str()})
		}
		if mv.AtLeast(2, 40) {
			props = append(props, Prop{"limit", multi(nonNegativeInt())}, Prop{"marker", str()})
		}
		return &Schema{Type: Types("object"), NoAdditional: mv.AtLeast(2, 75), Properties: props}
	}
}

// usageTime is Nova's _parse_datetime: empty is now; the three formats
// it accepts are taken as UTC.
func usageTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return now, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04:05.999999", "2006-01-02 15:04:05.999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, httpapi.BadRequest("Invalid datetime string: Datetime is in invalid format")
}

// usageWindow reads start, end and detailed (their first values, as
// Nova's parse_qs()[0]).
func (c *call) usageWindow() (start, stop time.Time, detailed bool, err error) {
	q, _ := url.ParseQuery(c.r.URL.RawQuery)
	first := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	now := c.s.now()
	if start, err = usageTime(first("start"), now); err != nil {
		return
	}
	if stop, err = usageTime(first("end"), now); err != nil {
		return
	}
	if !start.Before(stop) {
		err = httpapi.BadRequest("Invalid start time. The start time cannot occur after the end time.")
		return
	}
	if stop.After(now) {
		stop = now
	}
	return start, stop, first("detailed") == "1", nil
}

// tenantUsages is _tenant_usages_for_period: one summary per project in
// order of first appearance, and every server usage.
func (c *call) tenantUsages(start, stop time.Time, project string, detailed bool) ([]map[string]any, []map[string]any, error) {
	limit, marker := maxLimit, ""
	if c.mv.AtLeast(2, 40) {
		l, m, err := pagination(c.r.URL.Query())
		if err != nil {
			return nil, nil, err
		}
		limit = l
		if m != nil {
			marker = *m
		}
	}
	insts, err := c.s.activeInWindow(c.ctx, start, stop, project, limit, marker)
	if errors.Is(err, errNotFound) {
		return nil, nil, httpapi.BadRequest("Marker %s could not be found.", marker)
	}
	if err != nil {
		return nil, nil, err
	}
	now := c.s.now()
	var order []string
	summaries := map[string]map[string]any{}
	var all []map[string]any
	for _, ui := range insts {
		hours := hoursFor(ui, start, stop)
		info := map[string]any{"hours": hours, "flavor": ui.FlavorName, "instance_id": ui.UUID, "name": ui.Name,
			"tenant_id": ui.ProjectID, "memory_mb": ui.MemoryMB, "local_gb": ui.LocalGB, "vcpus": ui.VCPUs,
			"started_at": novaTime(ui.LaunchedAt), "ended_at": nil, "state": ui.VMState}
		end := now
		if ui.TerminatedAt != nil {
			info["ended_at"] = novaTime(*ui.TerminatedAt)
			info["state"] = "terminated"
			end = *ui.TerminatedAt
		}
		info["uptime"] = int64(end.Sub(ui.LaunchedAt).Seconds())
		sum, ok := summaries[ui.ProjectID]
		if !ok {
			sum = map[string]any{"tenant_id": ui.ProjectID, "total_local_gb_usage": 0.0, "total_vcpus_usage": 0.0,
				"total_memory_mb_usage": 0.0, "total_hours": 0.0, "start": novaTime(start), "stop": novaTime(stop)}
			if detailed {
				sum["server_usages"] = []map[string]any{}
			}
			summaries[ui.ProjectID] = sum
			order = append(order, ui.ProjectID)
		}
		sum["total_local_gb_usage"] = sum["total_local_gb_usage"].(float64) + float64(ui.LocalGB)*hours
		sum["total_vcpus_usage"] = sum["total_vcpus_usage"].(float64) + float64(ui.VCPUs)*hours
		sum["total_memory_mb_usage"] = sum["total_memory_mb_usage"].(float64) + float64(ui.MemoryMB)*hours
		sum["total_hours"] = sum["total_hours"].(float64) + hours
		if detailed {
			sum["server_usages"] = append(sum["server_usages"].([]map[string]any), info)
		}
		all = append(all, info)
	}
	out := make([]map[string]any, 0, len(order))
	for _, p := range order {
		out = append(out, summaries[p])
	}
	return out, all, nil
}

// usageLinks is the "next" link when a page is full (2.40).
func (c *call) usageLinks(collection string, all []map[string]any) []map[string]string {
	limit, _, err := pagination(c.r.URL.Query())
	if err != nil || limit == 0 || len(all) != limit {
		return nil
	}
	return c.nextLink(collection, all[len(all)-1]["instance_id"].(string))
}

func listTenantUsage(c *call) error {
	start, stop, detailed, err := c.usageWindow()
	if err != nil {
		return err
	}
	usages, all, err := c.tenantUsages(start, stop, "", detailed)
	if err != nil {
		return err
	}
	body := map[string]any{"tenant_usages": usages}
	if c.mv.AtLeast(2, 40) {
		if l := c.usageLinks("os-simple-tenant-usage", all); l != nil {
			body["tenant_usages_links"] = l
		}
	}
	return c.json(http.StatusOK, body)
}

func showTenantUsage(c *call) error {
	project := c.param("tenant_id")
	if err := c.enforce("os_compute_api:os-simple-tenant-usage:show", map[string]any{"project_id": project}); err != nil {
		return err
	}
	start, stop, _, err := c.usageWindow()
	if err != nil {
		return err
	}
	usages, all, err := c.tenantUsages(start, stop, project, true)
	if err != nil {
		return err
	}
	var usage any = map[string]any{}
	if len(usages) > 0 {
		usage = usages[0]
	}
	body := map[string]any{"tenant_usage": usage}
	if c.mv.AtLeast(2, 40) {
		if l := c.usageLinks("os-simple-tenant-usage/"+strings.TrimSpace(project), all); l != nil {
			body["tenant_usage_links"] = l
		}
	}
	return c.json(http.StatusOK, body)
}
