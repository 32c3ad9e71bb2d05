// Command kumobench holds the measurements kumo's bench/run.sh needs beyond
// shared/bench/loadgen:
//
//	kumobench rescope [flags]   issue rate of token-method (rescope) auth, credentials from OS_*
//	kumobench summary [flags]   kumo vs the Keystone anchor: ratios of every figure
//	kumobench image [flags]     image service: 1 GiB upload/download vs cat, list latency with 10,000 images
//	kumobench imagecompare      two image runs side by side (kumo vs Debian's glance-api)
//	kumobench swiftcompare      object storage: kumo vs Debian Swift, ratios and goal verdicts
//	kumobench compute [flags]   compute: QEMU boot time, 100-instance burst, scheduler throughput and fill, list latency
//
// It uses the standard library only and talks to 127.0.0.1 targets.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var code int
	switch os.Args[1] {
	case "rescope":
		code = rescopeCmd(os.Args[2:])
	case "summary":
		code = summaryCmd(os.Args[2:])
	case "image":
		code = imageCmd(os.Args[2:])
	case "compute":
		code = computeCmd(os.Args[2:])
	case "imagecompare":
		code = imageCompareCmd(os.Args[2:])
	case "swiftcompare":
		code = swiftCompareCmd(os.Args[2:], os.Stdout)
	case "-h", "--help", "help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "kumobench: unknown command %q\n", os.Args[1])
		usage()
		code = 2
	}
	os.Exit(code)
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  kumobench rescope [-concurrency 1,8,32] [-duration 10s] [-pids FILE] [-target T] [-run ID] [-out FILE]
  kumobench summary -anchors FILE -anchor-run ID -kumo FILE -kumo-run ID [-keystone-rescope FILE]
  kumobench image [-size-mib 1024] [-repeat 3] [-dir DIR] [-images 10000] [-create-concurrency 8]
                  [-list-requests 2000] [-list-concurrency 8] [-walks 3] [-pids FILE] [-target T] [-run ID]
                  [-out FILE] [-table FILE] [-endpoint URL] [-cleanup]
  kumobench imagecompare -in FILE -kumo-run ID -glance-run ID
  kumobench swiftcompare -kumo FILE [-kumo-run ID] -swift FILE [-swift-run ID[,ID]]
  kumobench compute -part boot|burst|throughput|fill|list|gobench|table [-count N] [-repeat 3] [-concurrency 16]
                    [-list-concurrency 8] [-list-requests 400] [-list-requests-big 100] [-image-file F] [-data-dir D]
                    [-flavor 42] [-per-host 2] [-microversion 2.37] [-in FILE] [-pids FILE] [-run ID] [-out FILE]`)
}
