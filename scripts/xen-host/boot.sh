#!/usr/bin/env bash
# Boots the Xen host image under QEMU (TCG) and runs a payload in its dom0: PAYLOAD_DIR must hold
# an executable `run`; it is handed in as a tar on a second disk, and dom0's /results comes back as
# a tar on a third, unpacked into RESULTS_DIR. The root file system is used copy-on-write, so the
# image stays as built. Usage: boot.sh PAYLOAD_DIR RESULTS_DIR [TIMEOUT_S]
set -euo pipefail
payload=$1
results=$2
limit=${3:-900}
image=${MIGSCOPE_XEN_IMAGE:-/var/cache/migscope/xen-host}
[ -f "$image/stamp" ] || { echo "xen-host: no image in $image; run scripts/xen-host/build-image.sh" >&2; exit 1; }
[ -x "$payload/run" ] || { echo "xen-host: $payload/run is missing or not executable" >&2; exit 1; }
mkdir -p "$results"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
tar -cf "$scratch/payload.tar" -C "$payload" .
truncate -s 256M "$scratch/results.tar"

# TCG by default: on this kind of machine KVM opens but cannot run Xen (FACTS-xen.md: "failed to
# set MSR 0x10a", emulation failures). MIGSCOPE_XEN_ACCEL=kvm tries KVM with the host's CPU where
# nested virtualisation works. Under TCG, Xen needs smap/smep off, and dom0 programs crashed at
# random with xsave/AVX in the CPU model.
accel=${MIGSCOPE_XEN_ACCEL:-tcg}
case "$accel" in
  tcg) cpu=max,-xsave,-avx,-avx2,-fma,-f16c,-vaes,-vpclmulqdq ;;
  kvm) [ -w /dev/kvm ] || { echo "xen-host: MIGSCOPE_XEN_ACCEL=kvm but /dev/kvm is not usable here" >&2; exit 1; }
       cpu=host ;;
  *) echo "xen-host: MIGSCOPE_XEN_ACCEL must be tcg or kvm, got '$accel'" >&2; exit 1 ;;
esac
console="$results/console.log"
echo "xen-host: booting Xen under QEMU ($accel), console in $console, limit ${limit}s"
start=$(date +%s)
set +e
timeout --kill-after=10 "$limit" qemu-system-x86_64 -machine q35 -accel $accel -cpu $cpu -m 4096 -smp 2 \
  -display none -no-reboot -monitor none -serial "file:$console" \
  -kernel "$image/xen.elf" \
  -append "dom0_mem=2048M,max:2048M dom0_max_vcpus=2 console=com1 com1=115200,8n1 noreboot smap=0 smep=0" \
  -initrd "$image/vmlinuz root=/dev/vda rw console=hvc0 init=/sbin/migscope-dom0-init,$image/initrd.img" \
  -drive "file=$image/root.ext4,if=virtio,format=raw,snapshot=on" \
  -drive "file=$scratch/payload.tar,if=virtio,format=raw,readonly=on" \
  -drive "file=$scratch/results.tar,if=virtio,format=raw"
rc=$?
set -e
echo "xen-host: QEMU ended after $(( $(date +%s) - start )) s (exit $rc)"
tar -xf "$scratch/results.tar" -C "$results" 2>/dev/null || echo "xen-host: no results came back (see $console)" >&2
[ $rc -eq 0 ] || exit $rc
