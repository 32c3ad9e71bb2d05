package containerserver

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

type contLine struct {
	Name         string `json:"name"`
	Count        int64  `json:"count"`
	Bytes        int64  `json:"bytes"`
	LastModified string `json:"last_modified"`
	Subdir       string `json:"subdir"`
}

func accountJSON(t *testing.T, r resp) []contLine {
	t.Helper()
	var out []contLine
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("account listing is not JSON: %v: %q", err, r.body)
	}
	return out
}

func flush(t *testing.T, n *node) {
	t.Helper()
	if err := n.updater.Flush(context.Background()); err != nil {
		t.Fatalf("account update: %v", err)
	}
}

func TestAccountVerbs(t *testing.T) {
	n := newNode(t)
	expect(t, n.a("HEAD", "/AUTH_a", nil), 404, "HEAD missing account")
	expect(t, n.a("PUT", "/AUTH_a", nil), 400, "PUT account without timestamp")
	expect(t, n.a("PUT", "/AUTH_a", hdrTS(1, "X-Account-Meta-Quota", "10")), 201, "PUT account")
	expect(t, n.a("PUT", "/AUTH_a", hdrTS(2)), 202, "PUT account again")
	r := n.a("HEAD", "/AUTH_a", nil)
	expect(t, r, 204, "HEAD account")
	if r.h.Get("X-Account-Container-Count") != "0" || r.h.Get("X-Account-Meta-Quota") != "10" || r.h.Get("X-Put-Timestamp") != ts(2) {
		t.Fatalf("HEAD account headers %v", r.h)
	}
	expect(t, n.a("GET", "/AUTH_a", nil), 204, "empty plain account listing")
	if r := n.a("GET", "/AUTH_a?format=json", nil); r.code != 200 || r.body != "[]" {
		t.Fatalf("empty json account listing %d %q", r.code, r.body)
	}
	if r := n.a("GET", "/AUTH_a?format=xml", nil); r.code != 200 || r.body != `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<account name="AUTH_a">`+"\n</account>" {
		t.Fatalf("empty xml account listing %d %q", r.code, r.body)
	}
	expect(t, n.a("POST", "/AUTH_a", hdrTS(3, "X-Account-Meta-Quota", "20")), 204, "POST account")
	if got := n.a("HEAD", "/AUTH_a", nil).h.Get("X-Account-Meta-Quota"); got != "20" {
		t.Fatalf("quota after POST %q", got)
	}
	expect(t, n.a("DELETE", "/AUTH_a", hdrTS(4)), 204, "DELETE account")
	r = n.a("HEAD", "/AUTH_a", nil)
	expect(t, r, 404, "HEAD deleted account")
	if r.h.Get("X-Account-Status") != "Deleted" {
		t.Errorf("deleted account status %q", r.h.Get("X-Account-Status"))
	}
	expect(t, n.a("PUT", "/AUTH_a", hdrTS(5)), 403, "PUT recently deleted account")
	expect(t, n.a("PUT", "/AUTH_a/c", map[string]string{"X-Put-Timestamp": ts(6), "X-Delete-Timestamp": "0",
		"X-Object-Count": "0", "X-Bytes-Used": "0"}), 404, "container report into deleted account")
	expect(t, n.a("PUT", "/AUTH_b/c", map[string]string{"X-Put-Timestamp": ts(6)}), 400, "report without counters")
}

// TestAccountUpdates drives containers through the container server and
// checks that the updater's reports land in the account.
func TestAccountUpdates(t *testing.T) {
	n := newNode(t)
	expect(t, n.a("PUT", "/AUTH_a", hdrTS(1)), 201, "PUT account")
	for _, c := range []string{"photos", "docs", "music"} {
		expect(t, n.c("PUT", "/AUTH_a/"+c, hdrTS(2)), 201, "PUT container "+c)
	}
	n.putObj("/AUTH_a/photos/a.jpg", 3, 100, "e")
	n.putObj("/AUTH_a/photos/b.jpg", 4, 50, "e")
	n.putObj("/AUTH_a/docs/x", 5, 7, "e")
	flush(t, n)

	r := n.a("HEAD", "/AUTH_a", nil)
	if r.h.Get("X-Account-Container-Count") != "3" || r.h.Get("X-Account-Object-Count") != "3" || r.h.Get("X-Account-Bytes-Used") != "157" {
		t.Fatalf("account counters %s/%s/%s, want 3/3/157", r.h.Get("X-Account-Container-Count"),
			r.h.Get("X-Account-Object-Count"), r.h.Get("X-Account-Bytes-Used"))
	}
	got := accountJSON(t, n.a("GET", "/AUTH_a?format=json", nil))
	if len(got) != 3 || got[0].Name != "docs" || got[0].Count != 1 || got[0].Bytes != 7 ||
		got[2].Name != "photos" || got[2].Count != 2 || got[2].Bytes != 150 || got[0].LastModified != TimestampFromTime(unixSec(2)).ISO() {
		t.Fatalf("account listing %+v", got)
	}
	if p := plainList(t, &node{t: t, cont: n.acct, acct: n.acct}, "/AUTH_a?marker=docs&limit=1"); strings.Join(p, "|") != "music" {
		t.Errorf("account marker/limit listing %q", p)
	}
	if p := plainList(t, &node{t: t, cont: n.acct, acct: n.acct}, "/AUTH_a?reverse=on&prefix=m"); strings.Join(p, "|") != "music" {
		t.Errorf("account prefix listing %q", p)
	}
	x := n.a("GET", "/AUTH_a?format=xml&limit=1", nil)
	if !strings.Contains(x.body, `<account name="AUTH_a">`) || !strings.Contains(x.body, "<container><name>docs</name><count>1</count><bytes>7</bytes><last_modified>") {
		t.Errorf("account xml %s", x.body)
	}

	// Deleting objects and then a container reaches the account too.
	expect(t, n.c("DELETE", "/AUTH_a/docs/x", hdrTS(6)), 204, "delete object")
	expect(t, n.c("DELETE", "/AUTH_a/docs", hdrTS(7)), 204, "delete container")
	flush(t, n)
	r = n.a("HEAD", "/AUTH_a", nil)
	if r.h.Get("X-Account-Container-Count") != "2" || r.h.Get("X-Account-Object-Count") != "2" || r.h.Get("X-Account-Bytes-Used") != "150" {
		t.Fatalf("after delete: %s/%s/%s, want 2/2/150", r.h.Get("X-Account-Container-Count"),
			r.h.Get("X-Account-Object-Count"), r.h.Get("X-Account-Bytes-Used"))
	}
	if p := plainList(t, &node{t: t, cont: n.acct, acct: n.acct}, "/AUTH_a"); strings.Join(p, "|") != "music|photos" {
		t.Errorf("account listing after delete %q", p)
	}
	// A nothing-changed flush sends nothing.
	if sent, _, err := n.updater.RunOnce(context.Background()); err != nil || sent != 0 {
		t.Errorf("idle sweep sent %d (err %v)", sent, err)
	}
}

// TestAccountReportOrdering: the account keeps the newest timestamps and
// the latest counters whatever order reports arrive in.
func TestAccountReportOrdering(t *testing.T) {
	n := newNode(t)
	expect(t, n.a("PUT", "/AUTH_a", hdrTS(1)), 201, "PUT account")
	report := func(put, del, count, used string, at float64) resp {
		return n.a("PUT", "/AUTH_a/c", map[string]string{"X-Put-Timestamp": put, "X-Delete-Timestamp": del,
			"X-Object-Count": count, "X-Bytes-Used": used, "X-Timestamp": ts(at)})
	}
	expect(t, report(ts(10), "0", "5", "500", 20), 201, "newer report")
	expect(t, report(ts(10), "0", "1", "100", 15), 201, "older report")
	r := n.a("HEAD", "/AUTH_a", nil)
	if r.h.Get("X-Account-Object-Count") != "5" || r.h.Get("X-Account-Bytes-Used") != "500" {
		t.Fatalf("older report overwrote counters: %v", r.h)
	}
	expect(t, report(ts(10), ts(30), "0", "0", 31), 204, "delete report")
	r = n.a("HEAD", "/AUTH_a", nil)
	if r.h.Get("X-Account-Container-Count") != "0" || r.h.Get("X-Account-Object-Count") != "0" {
		t.Fatalf("after delete report: %v", r.h)
	}
	// A late put report older than the delete does not resurrect it.
	expect(t, report(ts(12), "0", "3", "3", 32), 201, "late put report")
	if got := n.a("HEAD", "/AUTH_a", nil).h.Get("X-Account-Container-Count"); got != "0" {
		t.Fatalf("late report resurrected container: count %s", got)
	}
}

// TestUpdaterRetriesAfterFailure: a report that cannot be delivered stays
// pending in the container database and the next sweep delivers it, even
// from a fresh process.
func TestUpdaterRetriesAfterFailure(t *testing.T) {
	root := t.TempDir()
	n := newNodeAt(t, root)
	expect(t, n.a("PUT", "/AUTH_a", hdrTS(1)), 201, "PUT account")
	// Point the updater at a closed port: the report fails.
	good := n.accounts.nodes
	n.accounts.nodes = []Node{{Addr: "127.0.0.1:1", Device: "sda"}}
	expect(t, n.c("PUT", "/AUTH_a/c", hdrTS(2)), 201, "PUT container")
	n.putObj("/AUTH_a/c/o", 3, 42, "e")
	if err := n.updater.Flush(context.Background()); err == nil {
		t.Fatal("report to a closed port succeeded")
	}
	if r := n.a("HEAD", "/AUTH_a", nil); r.h.Get("X-Account-Container-Count") != "0" {
		t.Fatalf("account heard a failed report: %v", r.h)
	}
	n.close()

	// A new process over the same devices finds the pending report.
	m := newNodeAt(t, root)
	m.accounts.nodes = []Node{{Addr: strings.TrimPrefix(m.acct.URL, "http://"), Device: "sda"}}
	_ = good
	sent, failed, err := m.updater.RunOnce(context.Background())
	if err != nil || sent != 1 || failed != 0 {
		t.Fatalf("sweep sent %d failed %d err %v", sent, failed, err)
	}
	r := m.a("HEAD", "/AUTH_a", nil)
	if r.h.Get("X-Account-Container-Count") != "1" || r.h.Get("X-Account-Bytes-Used") != "42" {
		t.Fatalf("after retry: %v", r.h)
	}
}

// TestUpdaterUsesProxyAccountHeaders: with no locator, a container reports
// to the X-Account-Host/Partition/Device its PUT carried, as in Swift.
func TestUpdaterUsesProxyAccountHeaders(t *testing.T) {
	n := newNode(t)
	n.updater.locator = nil
	expect(t, n.a("PUT", "/AUTH_a", hdrTS(1)), 201, "PUT account")
	host := strings.TrimPrefix(n.acct.URL, "http://")
	expect(t, n.c("PUT", "/AUTH_a/c", hdrTS(2, "X-Account-Host", host, "X-Account-Partition", "0", "X-Account-Device", "sda")), 201, "PUT container")
	flush(t, n)
	if got := n.a("HEAD", "/AUTH_a", nil).h.Get("X-Account-Container-Count"); got != "1" {
		t.Fatalf("container count %q after report via proxy headers", got)
	}
}

// TestUpdaterRunReportsAsync: with Run in the background, a container
// change reaches the account without anyone calling Flush.
func TestUpdaterRunReportsAsync(t *testing.T) {
	n := newNode(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.updater.Run(ctx, time.Hour); close(done) }()
	defer func() { cancel(); <-done }()
	expect(t, n.a("PUT", "/AUTH_a", hdrTS(1)), 201, "PUT account")
	expect(t, n.c("PUT", "/AUTH_a/c", hdrTS(2)), 201, "PUT container")
	n.putObj("/AUTH_a/c/o", 3, 11, "e")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if n.a("HEAD", "/AUTH_a", nil).h.Get("X-Account-Bytes-Used") == "11" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("account never heard the container's counters")
}
