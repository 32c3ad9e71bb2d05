package compute

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"kumo/internal/platform/httpapi"
)

// os-instance_usage_audit_log, as Nova's instance_usage_audit_log.py: the
// state of the instance usage audit task per compute host for the last
// completed audit period (a month). kumo never runs that task (Nova's
// [DEFAULT] instance_usage_audit defaults to off too), so every compute
// host is "not run" and the log is empty.
func init() {
	register(
		route{method: "GET", path: "/os-instance_usage_audit_log", rule: "os_compute_api:os-instance-usage-audit-log:list", handle: listUsageAuditLog},
		route{method: "GET", path: "/os-instance_usage_audit_log/{before_timestamp}", rule: "os_compute_api:os-instance-usage-audit-log:show", handle: showUsageAuditLog},
	)
}

func listUsageAuditLog(c *call) error {
	log, err := c.usageAuditLog(c.s.now())
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"instance_usage_audit_logs": log})
}

func showUsageAuditLog(c *call) error {
	id := c.param("before_timestamp")
	layout := "2006-01-02 15:04:05"
	if strings.Contains(id, ".") {
		layout = "2006-01-02 15:04:05.999999"
	}
	before, err := time.Parse(layout, id)
	if err != nil {
		return httpapi.BadRequest("Invalid timestamp for date %s", id)
	}
	log, err := c.usageAuditLog(before)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"instance_usage_audit_log": log})
}

// lastAuditPeriod is Nova's last_completed_audit_period for the unit
// "month": from the first of the month before the last first of a month
// strictly before t, to that one.
func lastAuditPeriod(t time.Time) (begin, end time.Time) {
	end = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	if !end.Before(t) {
		end = end.AddDate(0, -1, 0)
	}
	return end.AddDate(0, -1, 0), end
}

func (c *call) usageAuditLog(before time.Time) (map[string]any, error) {
	begin, end := lastAuditPeriod(before)
	svcs, _, err := c.s.services(c.ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	hosts := []string{}
	for _, hs := range svcs {
		if hs.Binary == "nova-compute" && !seen[hs.Host] {
			seen[hs.Host] = true
			hosts = append(hosts, hs.Host)
		}
	}
	sort.Strings(hosts)
	status := fmt.Sprintf("0 of %d hosts done. 0 errors.", len(hosts))
	if len(hosts) == 0 {
		status = "ALL hosts done. 0 errors."
	}
	const layout = "2006-01-02 15:04:05"
	return map[string]any{"period_beginning": begin.Format(layout), "period_ending": end.Format(layout),
		"num_hosts": len(hosts), "num_hosts_done": 0, "num_hosts_running": 0, "num_hosts_not_run": len(hosts),
		"hosts_not_run": hosts, "total_instances": 0, "total_errors": 0, "overall_status": status,
		"log": map[string]any{}}, nil
}
