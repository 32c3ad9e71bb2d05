package manager

import (
	"testing"
)

// BenchmarkBuild100 measures "100 instances with one call until all
// ACTIVE" on the simulated driver (the API and scheduler not included).
func BenchmarkBuild100(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h := newHarness(b, Config{})
		b.StartTimer()
		buildMany(b, h, 100)
	}
}
