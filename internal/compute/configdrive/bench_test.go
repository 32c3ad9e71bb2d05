package configdrive

import "testing"

// BenchmarkBuild measures a whole config drive: JSON for every version,
// 512-byte random seeds and the ISO image.
func BenchmarkBuild(b *testing.B) {
	md := sampleMetadata()
	md.Rand = nil // crypto/rand, as in production
	var size int
	for b.Loop() {
		img, err := Build(md)
		if err != nil {
			b.Fatal(err)
		}
		size = len(img)
	}
	b.ReportMetric(float64(size), "image-bytes")
}
