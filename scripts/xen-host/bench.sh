#!/usr/bin/env bash
# Benchmark: what recording costs a libxl migration, on the Xen test host. Boots the image with
# bench-payload.sh, prints each migration and the mean of each kind.
# Usage: bench.sh [PAIRS]   (default 4; each migration ~15 s under TCG)
set -euo pipefail
cd "$(dirname "$0")/../.."
pairs=${1:-4}
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
bash scripts/xen-host/build-image.sh
payload=$(mktemp -d); out=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT
bash scripts/xen-host/add-migscope.sh "$payload"
cp scripts/xen-host/bench-payload.sh "$payload/run"
echo "$pairs" > "$payload/pairs"
bash scripts/xen-host/boot.sh "$payload" "$out" 1800 >/dev/null
column -t "$out/bench.tsv"
awk -F'\t' 'NR > 1 { n[$2]++; e[$2] += $3; c[$2] += $4 + $5 }
  END { for (k in n) printf "%-9s mean elapsed %.2f s, migscope CPU %.2f s per migration (%d runs)\n", k, e[k] / n[k], c[k] / n[k], n[k] }' "$out/bench.tsv"
echo "(results in $out)"
