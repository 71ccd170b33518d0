#!/usr/bin/env bash
# Installs everything migscope needs on Debian 12, as root: the C libraries it builds against,
# and the lab's parts (QEMU, libvirt daemon, tgt iSCSI target, busybox, a kernel for the guest,
# iperf3, gnuplot). Safe to run again: it installs only what is missing.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (apt-get and the lab need it)" >&2
  exit 1
fi

packages=(
  # build
  pkg-config libvirt-dev libxen-dev libsqlite3-dev libssl-dev
  # lab: hypervisor, daemons, iSCSI target, guest, network
  qemu-system-x86 qemu-block-extra qemu-utils libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
  tgt busybox-static iproute2 kmod cpio iperf3 util-linux procps psmisc
  # the Xen host image for the libxl tests (scripts/xen-host)
  debootstrap e2fsprogs
  # reports
  gnuplot-nox
  # the live-metrics test scrapes migscope with a real Prometheus (not started as a service)
  prometheus
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# libvirtd refuses to start without the libvirt-qemu user, which libvirt-daemon-system would create.
getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
getent passwd libvirt-qemu >/dev/null || useradd --system --gid libvirt-qemu --home-dir /var/lib/libvirt --no-create-home --shell /usr/sbin/nologin libvirt-qemu
getent group libvirt >/dev/null || groupadd --system libvirt

# The lab guest's kernel and modules: unpacked from Debian's kernel package into a cache, not
# installed (installing it would pull initramfs tools and ~400 MiB into the host's /lib/modules).
kernel_dir=/var/cache/migscope/kernel
# (virtio-scsi and what sd_mod needs, for the default disk bus; virtio-blk for --disk-bus virtio-blk.)
guest_modules="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk virtio_console
  scsi_common scsi_mod crct10dif_common crc-t10dif crc64 crc64_rocksoft_generic crc64-rocksoft t10-pi sd_mod virtio_scsi"
have_all=1
for m in $guest_modules; do [ -f "$kernel_dir/modules/$m.ko" ] || have_all=0; done
if [ ! -f "$kernel_dir/vmlinuz" ] || [ $have_all = 0 ]; then
  echo "install-deps: unpacking Debian's kernel for the lab guest into $kernel_dir"
  apt-get update -q >/dev/null 2>&1 || true
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  if [ -z "$pkg" ]; then
    echo "install-deps: cannot find the kernel package behind linux-image-amd64 (apt-get update?)" >&2
    exit 1
  fi
  tmp=$(mktemp -d)
  chmod 755 "$tmp"  # apt downloads as its own user
  (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null)
  mkdir -p "$kernel_dir.tmp"
  dpkg-deb -x "$tmp"/*.deb "$kernel_dir.tmp/root"
  version=$(ls "$kernel_dir.tmp/root/lib/modules")
  cp "$kernel_dir.tmp/root/boot/vmlinuz-$version" "$kernel_dir.tmp/vmlinuz"
  mkdir -p "$kernel_dir.tmp/modules"
  # Only the modules the guest loads (virtio bus, disks and console); the rest is left out.
  for m in $guest_modules; do
    f=$(find "$kernel_dir.tmp/root/lib/modules/$version" -name "$m.ko*" | head -n 1)
    [ -n "$f" ] && cp "$f" "$kernel_dir.tmp/modules/"
  done
  echo "$version" > "$kernel_dir.tmp/version"
  rm -rf "$kernel_dir.tmp/root" "$tmp"
  rm -rf "$kernel_dir"
  mv "$kernel_dir.tmp" "$kernel_dir"
fi

command -v swift >/dev/null || [ -x /opt/swift/usr/bin/swift ] || {
  echo "install-deps: no Swift toolchain found (expected 'swift' on PATH or in /opt/swift)" >&2
  exit 1
}
echo "install-deps: ready"
