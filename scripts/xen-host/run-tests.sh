#!/usr/bin/env bash
# The Xen stage of the tests' data: builds (or reuses) the Xen host image and a migscope built for
# it, boots the host under QEMU, runs scenarios.sh in its dom0 and leaves the results in OUT_DIR
# for XenHostTests to check. Usage: run-tests.sh OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$1
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
t0=$(date +%s)
bash scripts/xen-host/build-image.sh
t1=$(date +%s)
payload=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT
bash scripts/xen-host/add-migscope.sh "$payload"
t2=$(date +%s)
cp scripts/xen-host/scenarios.sh "$payload/run"
rm -rf "$out"
# Boot and scenarios took 700-1100 s under TCG here (2026-12-02); the limit leaves room.
bash scripts/xen-host/boot.sh "$payload" "$out" "${MIGSCOPE_XEN_LIMIT:-1500}"
t3=$(date +%s)
echo "xen-host: image $((t1 - t0)) s, migscope build $((t2 - t1)) s, boot and scenarios $((t3 - t2)) s" | tee "$out/timings.txt"
