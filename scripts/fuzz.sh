#!/usr/bin/env bash
# Runs every Go fuzz target of the module for FUZZTIME (default 20s) each.
# Targets are found, not listed, so a new `func FuzzX` is picked up:
#   grep -rn "^func Fuzz" --include=*_test.go
# A failing input is saved by go test under the package's testdata/fuzz/;
# re-run it with: go test -run 'FuzzX/<name>' ./pkg
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-20s}

mapfile -t targets < <(grep -rn --include='*_test.go' '^func Fuzz' . \
	| grep -v -e '^./build/' -e '^./bin/' \
	| sed -E 's|^\./([^:]*)/[^/:]*:[0-9]+:func (Fuzz[A-Za-z0-9_]*).*|\1 \2|' | sort -u)
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no fuzz targets found"
	exit 0
fi
echo "fuzz: ${#targets[@]} targets, $FUZZTIME each"
failed=()
for t in "${targets[@]}"; do
	read -r dir fn <<<"$t"
	echo "== $fn (./$dir)"
	# timeout: the fuzz time plus room to build the instrumented test binary.
	if ! timeout --signal=INT --kill-after=30s 600 \
		"$GO" test -run '^$' -fuzz "^${fn}\$" -fuzztime "$FUZZTIME" "./$dir"; then
		failed+=("$fn (./$dir)")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: FAILED: ${failed[*]}"
	exit 1
fi
echo "fuzz: all ${#targets[@]} targets passed"
