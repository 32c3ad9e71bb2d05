package main

import (
	"strings"
	"testing"
)

func TestParseRoles(t *testing.T) {
	if r, err := parseRoles(" objectstore-node,objectstore-node "); err != nil || len(r) != 1 || r[0] != "objectstore-node" {
		t.Fatalf("objectstore-node: %v %v", r, err)
	}
	for _, bad := range []string{"", ",", "compute", "objectstore-node,proxy"} {
		if _, err := parseRoles(bad); err == nil || !strings.Contains(err.Error(), "known roles are objectstore-node") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
