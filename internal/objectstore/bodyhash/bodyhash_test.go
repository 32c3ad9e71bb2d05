package bodyhash

import (
	"bytes"
	"crypto/md5"
	"sync"
	"testing"
)

// Whichever MD5 New hands out (crypto/md5 for small bodies and few large
// ones, md5-simd once simdMinStreams large ones run at once), the sums are
// MD5's.
func TestSumsAreMD5WhateverTheImplementation(t *testing.T) {
	const streams = simdMinStreams + 2
	body := bytes.Repeat([]byte("kumo body "), (3<<20)/10)
	want := md5.Sum(body)
	small := []byte("4 KiB object")
	h, done := New(int64(len(small)))
	h.Write(small)
	if s := md5.Sum(small); !bytes.Equal(h.Sum(nil), s[:]) {
		t.Fatal("small body: not its MD5")
	}
	done()

	hashes := make([]func() []byte, streams)
	var release []func()
	for i := range hashes {
		h, done := New(int64(len(body)))
		release = append(release, done)
		hashes[i] = func() []byte {
			for p := body; len(p) > 0; p = p[min(len(p), 100000):] {
				h.Write(p[:min(len(p), 100000)])
			}
			return h.Sum(nil)
		}
	}
	if got := largeHashes.Load(); got != streams {
		t.Fatalf("%d large hashes counted, want %d", got, streams)
	}
	var wg sync.WaitGroup
	sums := make([][]byte, streams)
	for i := range hashes {
		wg.Add(1)
		go func() { defer wg.Done(); sums[i] = hashes[i]() }()
	}
	wg.Wait()
	for i, s := range sums {
		if !bytes.Equal(s, want[:]) {
			t.Fatalf("stream %d: not the body's MD5", i)
		}
	}
	for _, done := range release {
		done()
	}
	if got := largeHashes.Load(); got != 0 {
		t.Fatalf("%d large hashes left counted", got)
	}
}
