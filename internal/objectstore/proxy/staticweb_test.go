package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestStaticWeb: a public container with web metadata serves anonymous
// GETs as a site: redirect to the trailing slash, the index object, HTML
// listings with the CSS link, directory indexes, and the error page with
// the original status; token holders still get the plain API.
func TestStaticWeb(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	c.must(201, "PUT", a+"/web", c.alice, nil, "X-Container-Read", ".r:*,.rlistings")
	c.must(201, "PUT", a+"/web/index.html", c.alice, []byte("<p>home</p>"))
	c.must(201, "PUT", a+"/web/docs/index.html", c.alice, []byte("docs home"))
	c.must(201, "PUT", a+"/web/pics/cat.png", c.alice, []byte("meow"))
	c.must(201, "PUT", a+"/web/404err.html", c.alice, []byte("not here"))

	// Without web metadata the container is a plain public listing.
	if r := c.must(200, "GET", a+"/web", "", nil); !strings.Contains(string(r.body), "index.html\n") {
		t.Fatalf("plain listing %q", r.body)
	}
	c.must(204, "POST", a+"/web", c.alice, nil, "X-Container-Meta-Web-Index", "index.html", "X-Container-Meta-Web-Error", "err.html")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(c.url + a + "/web")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 301 || res.Header.Get("Location") != a+"/web/" {
		t.Fatalf("redirect %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if r := c.must(200, "GET", a+"/web/", "", nil); string(r.body) != "<p>home</p>" {
		t.Fatalf("index %q", r.body)
	}
	if r := c.must(200, "GET", a+"/web/docs/", "", nil); string(r.body) != "docs home" {
		t.Fatalf("dir index %q", r.body)
	}
	if r := c.must(404, "GET", a+"/web/missing", "", nil); string(r.body) != "not here" {
		t.Fatalf("error page %q", r.body)
	}
	// A token holder gets the API, not the site.
	if r := c.must(200, "GET", a+"/web", c.alice, nil); !strings.Contains(string(r.body), "pics/cat.png") {
		t.Fatalf("API listing %q", r.body)
	}

	c.must(204, "POST", a+"/web", c.alice, nil, "X-Remove-Container-Meta-Web-Index", "x",
		"X-Container-Meta-Web-Listings", "true", "X-Container-Meta-Web-Listings-Css", "listings.css")
	r := c.must(200, "GET", a+"/web/", "", nil)
	body := string(r.body)
	for _, want := range []string{`<link rel="stylesheet" type="text/css" href="listings.css" />`, `<a href="pics/">pics/</a>`, `<a href="index.html">index.html</a>`} {
		if !strings.Contains(body, want) {
			t.Fatalf("listing lacks %q:\n%s", want, body)
		}
	}
	r = c.must(200, "GET", a+"/web/pics/", "", nil)
	if !strings.Contains(string(r.body), `href="../listings.css"`) || !strings.Contains(string(r.body), `<a href="cat.png">cat.png</a>`) {
		t.Fatalf("sub listing:\n%s", r.body)
	}
	if r := c.must(200, "GET", a+"/web/pics/cat.png", "", nil); string(r.body) != "meow" {
		t.Fatalf("object %q", r.body)
	}
}
