package compute

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
)

// batchLimits is fixedLimits with the identity service's ProjectLimits,
// counting which of the two compute asks.
type batchLimits struct {
	fixedLimits
	single, batch atomic.Int64
}

func (b *batchLimits) ProjectLimit(ctx context.Context, project, service, region, resource string) (int64, bool, error) {
	b.single.Add(1)
	return b.fixedLimits.ProjectLimit(ctx, project, service, region, resource)
}

func (b *batchLimits) ProjectLimits(_ context.Context, _, service, _ string, resources []string) (map[string]int64, error) {
	b.batch.Add(1)
	out := map[string]int64{}
	if service != "compute" {
		return out, nil
	}
	for _, r := range resources {
		if n, ok := b.fixedLimits[r]; ok {
			out[r] = n
		}
	}
	return out, nil
}

// TestCreateQuotaBatched: with a limit reader that batches, a create reads
// its limits in batches only, and enforces them as one-by-one reads do: a
// create over the VCPU limit gets Nova's 403 naming it, unregistered
// metadata items are a limit of 0, -1 is unlimited.
func TestCreateQuotaBatched(t *testing.T) {
	lim := &batchLimits{fixedLimits: fixedLimits{resServers: -1, resVCPU: 1, resMemoryMB: -1, resDiskGB: -1}}
	sc := newSimCloud(t, 2, func(c *Config) { c.Limits = lim })
	post := func(body map[string]any) resp {
		t.Helper()
		srv := map[string]any{"name": "q", "imageRef": sc.imageID, "flavorRef": "1", "networks": "none"}
		for k, v := range body {
			srv[k] = v
		}
		return sc.req("POST", "/v2.1/servers", sc.alice, map[string]any{"server": srv}, "mv", "2.37")
	}
	if r := post(map[string]any{"min_count": 2, "max_count": 2}); r.status != 403 || !strings.Contains(string(r.raw), "class:VCPU is over limit of 1") {
		t.Fatalf("over the VCPU limit: %d %s", r.status, r.raw)
	}
	if r := post(map[string]any{"metadata": map[string]any{"a": "b"}}); r.status != 403 || !strings.Contains(string(r.raw), "server_metadata_items") {
		t.Fatalf("metadata with no registered limit: %d %s", r.status, r.raw)
	}
	if r := post(nil); r.status != 202 {
		t.Fatalf("within limits: %d %s", r.status, r.raw)
	}
	if lim.single.Load() != 0 || lim.batch.Load() == 0 {
		t.Fatalf("limit reads: %d single, %d batched; want batched only", lim.single.Load(), lim.batch.Load())
	}
}
