package proxy

import (
	"encoding/json"
	"encoding/xml"
	"net/url"
	"strings"
	"testing"
)

// TestContainerListingParams drives every listing parameter through the
// proxy to the container servers.
func TestContainerListingParams(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	c.must(201, "PUT", a+"/l", c.alice, nil)
	names := []string{"a", "b/1", "b/2", "b/c/3", "c", "d.txt"}
	for _, n := range names {
		c.must(201, "PUT", a+"/l/"+n, c.alice, []byte(n))
	}
	plain := func(q string) string {
		t.Helper()
		r := c.do("GET", a+"/l"+q, c.alice, nil)
		if r.status != 200 && r.status != 204 {
			t.Fatalf("GET %s: %d %s", q, r.status, r.body)
		}
		return strings.TrimSuffix(string(r.body), "\n")
	}
	cases := map[string]string{
		"":                                "a\nb/1\nb/2\nb/c/3\nc\nd.txt",
		"?limit=2":                        "a\nb/1",
		"?marker=b/2":                     "b/c/3\nc\nd.txt",
		"?end_marker=b/2":                 "a\nb/1",
		"?prefix=b/":                      "b/1\nb/2\nb/c/3",
		"?delimiter=/":                    "a\nb/\nc\nd.txt",
		"?prefix=b/&delimiter=/":          "b/1\nb/2\nb/c/",
		"?reverse=true&limit=2":           "d.txt\nc",
		"?path=b":                         "b/1\nb/2",
		"?marker=a&end_marker=c&limit=10": "b/1\nb/2\nb/c/3",
		"?prefix=zzz":                     "",
	}
	for q, want := range cases {
		if got := plain(q); got != want {
			t.Errorf("listing %q = %q, want %q", q, got, want)
		}
	}
	// An empty plain listing is 204.
	if r := c.do("GET", a+"/l?prefix=zzz", c.alice, nil); r.status != 204 {
		t.Errorf("empty listing status %d", r.status)
	}
	r := c.must(200, "GET", a+"/l?format=json&prefix=d", c.alice, nil)
	var objs []map[string]any
	if err := json.Unmarshal(r.body, &objs); err != nil || len(objs) != 1 {
		t.Fatalf("json listing %s", r.body)
	}
	o := objs[0]
	if o["name"] != "d.txt" || o["bytes"].(float64) != 5 || o["hash"] != md5hex([]byte("d.txt")) ||
		o["content_type"] != "text/plain" || o["last_modified"] == "" {
		t.Errorf("json entry %v", o)
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("json Content-Type %q", r.header.Get("Content-Type"))
	}
	r = c.must(200, "GET", a+"/l?format=xml&delimiter=/", c.alice, nil)
	var doc struct {
		XMLName xml.Name
		Name    string `xml:"name,attr"`
		Objects []struct {
			Name string `xml:"name"`
		} `xml:"object"`
		Subdirs []struct {
			Name string `xml:"name,attr"`
		} `xml:"subdir"`
	}
	if err := xml.Unmarshal(r.body, &doc); err != nil || doc.Name != "l" || len(doc.Objects) != 3 || len(doc.Subdirs) != 1 {
		t.Fatalf("xml listing %s (%v)", r.body, err)
	}
	// Accept header picks the format when there is no ?format.
	r = c.must(200, "GET", a+"/l?limit=1", c.alice, nil, "Accept", "application/json")
	if !strings.HasPrefix(string(r.body), "[") {
		t.Errorf("Accept json gave %s", r.body)
	}
	c.must(412, "GET", a+"/l?limit=10001", c.alice, nil)

	// Account listings take the same parameters.
	for _, n := range []string{"m1", "m2", "n1"} {
		c.must(201, "PUT", a+"/"+n, c.alice, nil)
	}
	eventually(t, func() string {
		if got := strings.TrimSpace(string(c.do("GET", a+"?marker=l", c.alice, nil).body)); got != "m1\nm2\nn1" {
			return "account listing: " + got
		}
		return ""
	})
	if got := strings.TrimSpace(string(c.must(200, "GET", a+"?prefix=m", c.alice, nil).body)); got != "m1\nm2" {
		t.Errorf("account prefix listing %q", got)
	}
	if got := strings.TrimSpace(string(c.must(200, "GET", a+"?marker=l&limit=2", c.alice, nil).body)); got != "m1\nm2" {
		t.Errorf("account marker listing %q", got)
	}
	if got := strings.TrimSpace(string(c.must(200, "GET", a+"?reverse=on&end_marker=m1", c.alice, nil).body)); got != "n1\nm2" {
		t.Errorf("account reverse listing %q", got)
	}
	r = c.must(200, "GET", a+"?format=json&prefix=n", c.alice, nil)
	var conts []map[string]any
	if err := json.Unmarshal(r.body, &conts); err != nil || len(conts) != 1 || conts[0]["name"] != "n1" {
		t.Fatalf("account json %s", r.body)
	}
	// Names needing escapes survive the trip.
	name := "sp ace/ü?#%"
	c.must(201, "PUT", a+"/l/"+escapeObject(name), c.alice, []byte("x"))
	r = c.must(200, "GET", a+"/l?prefix="+url.QueryEscape("sp "), c.alice, nil)
	if strings.TrimSpace(string(r.body)) != name {
		t.Errorf("escaped name listing %q", r.body)
	}
	if got := c.must(200, "GET", a+"/l/"+escapeObject(name), c.alice, nil).body; string(got) != "x" {
		t.Errorf("escaped name read %q", got)
	}
}
