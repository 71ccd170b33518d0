#!/usr/bin/env bash
# Benchmark: what the mitigations reach on the lab's shared 100 Mbit/s link with the direct reader,
# printed next to the figures issue 14 asks for: the pacer holds the guest's mean read rate within
# 5 points of its floor (50 % and 75 %) and the migration completes; the best mitigation's
# efficiency (g/C + T0/T) is at least 0.9. About 10 minutes; builds its own lab if none is up and
# leaves it up. Results: results/bench-mitigations.sqlite, results/mitigations-bench-report/.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
bash scripts/install-deps.sh >/dev/null
swift build -c release --product migscope >/dev/null
db=results/bench-mitigations.sqlite
rm -f "$db"
.build/release/migscope batch scripts/bench/mitigations-bench.yaml --db "$db"
table=results/mitigations-bench-report/efficiency.csv
echo
echo "bench-mitigations: each cell (mean of its runs), from $table"
# mitigation, efficiency, g/C, T0/T, migration s, downtime ms, I/O during/before %
awk -F, 'NR > 1 { printf "  %-32s efficiency %-12s g/C %-12s T0/T %-12s migration %-10s s downtime %-8s ms I/O during/before %s %%\n", $1, $5, $6, $7, $8, $9, $10 }' "$table"
floor_ok=1
for floor in 50 75; do
  got=$(awk -F, -v m="io-floor:$floor" '$1 == m { split($10, a, " "); print a[1] }' "$table")
  if [ -z "$got" ] || awk -v g="$got" -v f="$floor" 'BEGIN { exit !(g < f - 5 || g > f + 5) }'; then floor_ok=0; v=FAIL; else v=ok; fi
  echo "  target: pacer at $floor % holds the guest at $floor ± 5 %: measured ${got:-?} % -> $v"
done
best=$(awk -F, 'NR > 1 { split($5, a, " "); if (a[1] > b) { b = a[1]; m = $1 } } END { print b, m }' "$table")
if awk -v b="${best%% *}" 'BEGIN { exit !(b >= 0.9) }'; then v=ok; else v=FAIL; fi
echo "  target: the best efficiency is at least 0.9: ${best#* } reached ${best%% *} -> $v"
