#!/usr/bin/env bash
# The main job: installs what migscope needs, builds it, brings up the embedded lab with the paper's
# setup (1 GiB guest reading its iSCSI disk, 100 Mbit/s shared link), and migrates the guest
# A -> B live and back B -> A non-live, printing each migration's progress and summary.
# Set KEEP_LAB=1 to leave the lab up afterwards (remove it with: migscope lab down).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH

bash scripts/install-deps.sh
swift build -c release --product migscope
migscope=.build/release/migscope

if [ "${KEEP_LAB:-0}" != 1 ]; then trap '$migscope lab down --quiet || true' EXIT; fi

$migscope lab up "$@"
A=$($migscope lab status --json | python3 -c 'import json,sys; print([h["uri"] for h in json.load(sys.stdin)["hosts"] if h["name"]=="hostA"][0])')
B=$($migscope lab status --json | python3 -c 'import json,sys; print([h["uri"] for h in json.load(sys.stdin)["hosts"] if h["name"]=="hostB"][0])')

echo "== baseline: the guest reads for 20 s before migrating"
sleep 20
echo "== live migration A -> B (pre-copy; the guest is paused after 120 s if it has not converged, as the paper's Xen stops pre-copy)"
$migscope migrate migscope-guest --from "$A" --to "$B" --p2p --live --timeout 120
sleep 10
echo "== non-live migration B -> A"
$migscope migrate migscope-guest --from "$B" --to "$A" --p2p --non-live
sleep 5
tail -n 3 /run/migscope-lab/guest/console.log
