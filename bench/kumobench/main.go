// Command kumobench holds the measurements kumo's bench/run.sh needs beyond
// shared/bench/loadgen:
//
//	kumobench rescope [flags]   issue rate of token-method (rescope) auth, credentials from OS_*
//	kumobench summary [flags]   kumo vs the Keystone anchor: ratios of every figure
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
  kumobench summary -anchors FILE -anchor-run ID -kumo FILE -kumo-run ID [-keystone-rescope FILE]`)
}
