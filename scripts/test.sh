#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need, builds, and runs it in three
# stages, each whatever the others did: (1) unit tests, libvirt test-driver tests and the lab's
# real migrations; (2) the Xen host (a Xen 4.17 image booted under QEMU, libxl migrations inside);
# (3) the README's main command exactly as written (`bash scripts/reproduce.sh --quick`, from the
# repository root, default output folder), then MainJobTests checks what it left; then the
# mitigations' miniature the same way (`--mitigations --quick`), checked by MitigationsJobTests.
# Leaves nothing behind.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH

bash scripts/install-deps.sh

saved_results=""
cleanup() {
  if [ -n "${image_pid:-}" ]; then kill -- -"$image_pid" 2>/dev/null || true; fi
  # A lab left up by a failed or interrupted run would change what the next run sees.
  if [ -x .build/debug/migscope ]; then .build/debug/migscope lab down --quiet >/dev/null 2>&1 || true; fi
  # The main job writes results/ where a developer may keep their own: theirs comes back.
  if [ -n "$saved_results" ] && [ -e "$saved_results" ]; then rm -rf results; mv "$saved_results" results; fi
  # A Xen host still booted by an interrupted run (its QEMU names dom0's init on its command line).
  pkill -f "init=/sbin/migscope-dom0-init" 2>/dev/null || true
  # The Prometheus a crashed LabMetricsTests started (its data lives in the test's own folder).
  pkill -f "storage.tsdb.path=.*migscope-metrics-" 2>/dev/null || true
}
trap cleanup EXIT

start=$(date +%s)
# The Xen host's image (debootstrap: mostly downloads and unpacking) is built while Swift compiles,
# not during the tests, whose timings it would disturb.
image_log=$(mktemp /tmp/migscope-xen-image.XXXXXX.log)
image_pid=""
if [ "$(id -u)" -eq 0 ]; then setsid bash scripts/xen-host/build-image.sh >"$image_log" 2>&1 & image_pid=$!; fi
swift build --build-tests
if [ -n "$image_pid" ]; then
  wait "$image_pid" || echo "test.sh: building the Xen host image failed (the Xen stage tries again): $(tail -1 "$image_log")"
  tail -3 "$image_log"; image_pid=""
fi
rm -f "$image_log"
built=$(date +%s)

status=0
swift test --skip-build --skip XenHostTests --skip MainJobTests --skip MitigationsJobTests --skip InstallTests || status=1
stage1=$(date +%s)
# The Xen host is booted once by the script (image, migscope and its Swift runtime, scenarios in its dom0);
# XenHostTests then checks what came back. `swift test --filter XenHostTests` alone does both.
xen_results=$(mktemp -d /tmp/migscope-xen-results.XXXXXX)
if [ "$(id -u)" -eq 0 ]; then
  bash scripts/xen-host/run-tests.sh "$xen_results" || echo "test.sh: the Xen host run failed; XenHostTests will say what is missing"
  MIGSCOPE_XEN_RESULTS="$xen_results" swift test --skip-build --filter XenHostTests || status=1
else
  swift test --skip-build --filter XenHostTests || status=1  # skips, saying it needs root
fi
[ $status -ne 0 ] || rm -rf "$xen_results"
stage2=$(date +%s)

# Stage 3: the main job as a new user runs it. It builds migscope in release mode, builds its own
# lab and leaves it up (as the README says), so it runs outside `swift test`, which holds .build.
main_job=$(mktemp -d /tmp/migscope-main-job.XXXXXX)
if [ "$(id -u)" -eq 0 ]; then
  if [ -e results ]; then saved_results="results.saved-by-test-$$"; mv results "$saved_results"; fi
  .build/debug/migscope lab down --quiet >/dev/null 2>&1 || true
  set +e
  bash scripts/reproduce.sh --quick 2>&1 | tee "$main_job/output.log"
  echo "${PIPESTATUS[0]}" > "$main_job/status"
  set -e
  MIGSCOPE_MAIN_JOB="$main_job" swift test --skip-build --filter MainJobTests || status=1
  # The second question of the paper, as a user asks it next (same lab, same database).
  mitigations_job="$main_job/mitigations"
  mkdir -p "$mitigations_job"
  set +e
  bash scripts/reproduce.sh --mitigations --quick 2>&1 | tee "$mitigations_job/output.log"
  echo "${PIPESTATUS[0]}" > "$mitigations_job/status"
  set -e
  MIGSCOPE_MITIGATIONS_JOB="$mitigations_job" swift test --skip-build --filter MitigationsJobTests || status=1
  .build/debug/migscope lab down --quiet >/dev/null 2>&1 || true
  # What the main job wrote stays for a look when something failed; theirs comes back.
  if [ $status -ne 0 ] && [ -e results ]; then mv results "$main_job/results"; echo "test.sh: the main job's results are in $main_job/results"; fi
  rm -rf results
  if [ -n "$saved_results" ]; then mv "$saved_results" results; saved_results=""; fi
else
  swift test --skip-build --filter MainJobTests || status=1  # skips, saying it needs root
  swift test --skip-build --filter MitigationsJobTests || status=1
fi
[ $status -ne 0 ] || rm -rf "$main_job"
# scripts/install.sh as the README gives it, into a prefix of its own (the main job's release build
# is reused; the man page and completions are made here), then checked from outside.
install_prefix=$(mktemp -d /tmp/migscope-install.XXXXXX)
if bash scripts/install.sh --prefix "$install_prefix"; then
  MIGSCOPE_INSTALLED="$install_prefix" swift test --skip-build --filter InstallTests || status=1
else
  echo "test.sh: scripts/install.sh failed"; status=1
fi
rm -rf "$install_prefix"
stage3=$(date +%s)
echo "test.sh: build $((built - start)) s; stage 1 (unit, libvirt, lab) $((stage1 - built)) s; stage 2 (Xen host) $((stage2 - stage1)) s; stage 3 (main job) $((stage3 - stage2)) s"
exit $status
