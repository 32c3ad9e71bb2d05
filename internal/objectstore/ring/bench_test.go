package ring

import (
	"fmt"
	"testing"
)

// 100 devices: 2 regions × 5 zones × 5 nodes × 2 disks, part power 16,
// 3 replicas — a mid-size Swift cluster.
func benchLayout() []layoutDev { return grid(2, 5, 5, 2, 100) }

func BenchmarkRebalancePartPower16Devices100(b *testing.B) {
	for b.Loop() {
		buildRing(b, 16, 3, 1, nil, benchLayout())
	}
}

// Rebalance after adding 10 devices to a built ring: the day-to-day case.
func BenchmarkRebalanceAddTenDevices(b *testing.B) {
	base := buildRing(b, 16, 3, 1, nil, benchLayout())
	for b.Loop() {
		b.StopTimer()
		rb := base.clone()
		rb.PretendMinPartHoursPassed()
		for i := range 10 {
			if _, err := rb.AddDevice(devFor(layoutDev{1 + i%2, 1 + i%5, 9, 100}, fmt.Sprintf("new%d", i))); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if _, err := rb.Rebalance(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPartitionForAndNodes(b *testing.B) {
	r := ringOf(b, buildRing(b, 16, 3, 1, nil, benchLayout()), testSalt)
	names := make([]string, 1024)
	for i := range names {
		names[i] = fmt.Sprintf("object-%d.jpg", i)
	}
	i := 0
	for b.Loop() {
		part := r.PartitionFor("AUTH_test", "photos", names[i%len(names)])
		if len(r.Nodes(part)) != 3 {
			b.Fatal("wrong node count")
		}
		i++
	}
}

func BenchmarkHandoffsFirstThree(b *testing.B) {
	r := ringOf(b, buildRing(b, 16, 3, 1, nil, benchLayout()), testSalt)
	part := 0
	for b.Loop() {
		n := 0
		for range r.Handoffs(part % r.Partitions()) {
			if n++; n == 3 {
				break
			}
		}
		part += 7919
	}
}

func BenchmarkPartitionFor(b *testing.B) {
	r := ringOf(b, buildRing(b, 16, 3, 1, nil, grid(1, 3, 1, 1, 100)), testSalt)
	for b.Loop() {
		r.PartitionFor("AUTH_test", "photos", "object-12345.jpg")
	}
}
