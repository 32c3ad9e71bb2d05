# json.sh: shell helpers over jsonflat.awk output (sourced).
# json_flat FILE: flattens FILE to stdout.
json_flat() { awk -f /usr/lib/kumo/jsonflat.awk "$1"; }
# json_get FLAT PATH: the value at PATH (empty when absent).
json_get() { awk -F'\t' -v k="$2" '$1 == k { print substr($0, length(k) + 2); exit }' "$1"; }
