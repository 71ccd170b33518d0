#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need, builds, runs every test
# (unit tests, libvirt test-driver tests, and the lab's real migrations), and leaves nothing behind.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH

bash scripts/install-deps.sh

cleanup() {
  # A lab left up by a failed or interrupted run would change what the next run sees.
  if [ -x .build/debug/migscope ]; then .build/debug/migscope lab down --quiet >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

swift build --build-tests
swift test --skip-build
