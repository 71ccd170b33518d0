#!/usr/bin/env bash
# Puts migscope into a Xen host payload folder: the debug build (incremental when the tests'
# build is there) and the Swift runtime it links, beside it, where its RUNPATH ($ORIGIN) finds
# them. The Xen host has Debian's C libraries but no Swift; a --static-swift-stdlib build of its
# own compiled every package again (minutes in CI). Usage: add-migscope.sh PAYLOAD_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=$1
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
swift build --product migscope 2>&1 | tail -1
bin=.build/debug/migscope
cp "$bin" "$dir/migscope"
runtime=$(ldd "$bin" | awk '$3 ~ /\/lib\/swift\/linux\// { print $3 }')
[ -n "$runtime" ] || { echo "xen-host: ldd found no Swift runtime libraries for $bin" >&2; exit 1; }
# shellcheck disable=SC2086
cp $runtime "$dir/"
if ldd "$bin" | grep -q "not found"; then echo "xen-host: $bin misses libraries here: $(ldd "$bin" | grep 'not found')" >&2; exit 1; fi
