package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := percentile(d, tc.q); got != tc.want {
			t.Errorf("percentile(1..100 ms, %v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile(nil) = %v, want 0", got)
	}
}

func TestParseInts(t *testing.T) {
	got, err := parseInts("1, 8,32")
	if err != nil || len(got) != 3 || got[0] != 1 || got[1] != 8 || got[2] != 32 {
		t.Errorf("parseInts(\"1, 8,32\") = %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "x", "2000"} {
		if _, err := parseInts(bad); err == nil {
			t.Errorf("parseInts(%q): no error", bad)
		}
	}
}

func TestRatio(t *testing.T) {
	if got := ratio(10, 4, true, true); got != "2.50" {
		t.Errorf("ratio(10, 4) = %q", got)
	}
	if got := ratio(16, 1177, true, true); got != "1/74" {
		t.Errorf("ratio(16, 1177) = %q, want 1/74", got)
	}
	if got := ratio(1, 0, true, true); got != "-" {
		t.Errorf("ratio(1, 0) = %q, want -", got)
	}
	if got := ratio(1, 2, true, false); got != "-" {
		t.Errorf("ratio with a missing value = %q, want -", got)
	}
}

func TestSizeLabelAndThroughput(t *testing.T) {
	if got := sizeLabel(1 << 30); got != "1GiB" {
		t.Errorf("sizeLabel(1 GiB) = %q", got)
	}
	if got := sizeLabel(64 << 20); got != "64MiB" {
		t.Errorf("sizeLabel(64 MiB) = %q", got)
	}
	l := throughput("image.upload_1GiB", 1e9, []time.Duration{4 * time.Second, 2 * time.Second, 5 * time.Second}, 1000)
	if l.MBps != 500 || l.DurationS != 2 || l.PctOfCeiling != 50 || len(l.RunsMBps) != 3 || l.RunsMBps[0] != 250 {
		t.Errorf("throughput: %+v", l)
	}
}

func TestTokenAndEndpoint(t *testing.T) {
	catalogURL := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Subject-Token", "tok")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"token":{"catalog":[{"type":"identity","endpoints":[]},{"type":"image","endpoints":[{"interface":"internal","url":"http://10.0.0.1:9292"},{"interface":"public","url":%q}]}]}}`, catalogURL)
	}))
	defer srv.Close()
	c := creds{authURL: srv.URL + "/v3", user: "u", password: "p", userDomain: "Default", project: "p", projectDomain: "Default"}
	catalogURL = "http://127.0.0.1:9292/v2/"
	tok, base, err := tokenAndEndpoint(context.Background(), srv.Client(), c, "image")
	if err != nil || tok != "tok" || base != "http://127.0.0.1:9292" {
		t.Errorf("loopback endpoint: %q %q %v", tok, base, err)
	}
	catalogURL = "http://192.0.2.1:9292"
	if _, _, err := tokenAndEndpoint(context.Background(), srv.Client(), c, "image"); err == nil {
		t.Error("a non-loopback endpoint was accepted")
	}
	if _, _, err := tokenAndEndpoint(context.Background(), srv.Client(), c, "volumev3"); err == nil {
		t.Error("a missing service type was accepted")
	}
}

func TestWalk(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Auth-Token") != "tok" || r.URL.Query().Get("limit") != "2" {
			http.Error(w, "bad request", 400)
			return
		}
		switch r.URL.Query().Get("marker") {
		case "":
			fmt.Fprint(w, `{"images":[{"id":"a"},{"id":"b"}],"next":"/v2/images?limit=2&marker=b"}`)
		case "b":
			fmt.Fprint(w, `{"images":[{"id":"c"},{"id":"d"}],"next":"/v2/images?limit=2&marker=d"}`)
		default:
			fmt.Fprint(w, `{"images":[{"id":"e"}]}`)
		}
	}))
	defer srv.Close()
	b := &imageBench{hc: srv.Client(), base: srv.URL, token: "tok", timeout: 10 * time.Second}
	pages, images, lat, d, err := b.walk(context.Background(), 2)
	if err != nil || pages != 3 || images != 5 || len(lat) != 3 || d <= 0 {
		t.Errorf("walk: %d pages, %d images, %d latencies, %v, %v", pages, images, len(lat), d, err)
	}
}
