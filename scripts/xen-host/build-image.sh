#!/usr/bin/env bash
# Builds a Xen 4.17 host image from Debian's packages, for migscope's Xen tests: a root file
# system (debootstrap from the mirror apt already uses here), the hypervisor as an ELF QEMU's
# multiboot loader accepts, dom0's kernel and initrd, and a tiny PV guest (dom0's kernel with a
# busybox initramfs, a read workload or a memory-dirtying loop). Cached: rebuilt only when this
# script changes. Usage: build-image.sh [CACHE_DIR]   (default /var/cache/migscope/xen-host)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-/var/cache/migscope/xen-host}
stamp=$(cat "$here/build-image.sh" "$here/dom0-init" "$here/guest-init" | sha256sum | cut -c1-16)

if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ]; then
  echo "xen-host: image up to date in $out"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "xen-host: run as root (debootstrap and chroot need it)" >&2; exit 1; }
for tool in debootstrap mkfs.ext4 cpio; do
  command -v "$tool" >/dev/null || { echo "xen-host: $tool is missing; run scripts/install-deps.sh" >&2; exit 1; }
done

# The mirror apt uses for bookworm on this machine (deb822 sources first, then sources.list).
mirror=$(awk '
  /^URIs:/ { uris=$2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") found=uris }
  /^$/ { uris="" } END { print found }' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i+1) == "bookworm") { print $i; exit } } }' /etc/apt/sources.list)
fi
[ -n "$mirror" ] || { echo "xen-host: no bookworm mirror in apt's sources; add one to /etc/apt/sources.list.d" >&2; exit 1; }
echo "xen-host: building in $out from $mirror"

work="$out.tmp"
rm -rf "$work"; mkdir -p "$work"
start=$(date +%s)
packages=xen-hypervisor-4.17-amd64,xen-utils-4.17,xen-utils-common,linux-image-amd64,initramfs-tools,busybox-static,kmod,iproute2,mount,procps,libvirt0,libsqlite3-0,libcurl4,gnuplot-nox,openssh-server,openssh-client
debootstrap --variant=minbase --include="$packages" bookworm "$work/rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; echo "xen-host: debootstrap failed (log: $work/debootstrap.log)" >&2; exit 1; }
echo "xen-host: debootstrap done in $(( $(date +%s) - start )) s"

root="$work/rootfs"
version=$(ls "$root/lib/modules" | head -1)
install -m 755 "$here/dom0-init" "$root/sbin/migscope-dom0-init"
echo xen-host > "$root/etc/hostname"
# Xen's console daemon keeps each guest's console in /var/log/xen/console/guest-NAME.log.
mkdir -p "$root/var/log/xen/console"
echo 'XENCONSOLED_ARGS="--log=guest --log-dir=/var/log/xen/console"' >> "$root/etc/default/xen"

# Boot pieces: QEMU's multiboot loader wants the hypervisor as an ELF, i.e. decompressed.
gunzip -c "$root"/boot/xen-4.17-amd64.gz > "$work/xen.elf"
cp "$root/boot/vmlinuz-$version" "$work/vmlinuz"
cp "$root/boot/initrd.img-$version" "$work/initrd.img"

# The PV guest: dom0's kernel, busybox, the block front-end module, and an init with two workloads.
g="$work/guest-root"
mkdir -p "$g"/{bin,dev,proc,sys,tmp,lib/modules}
cp "$root/bin/busybox" "$g/bin/busybox"
for m in xen-blkfront; do
  f=$(find "$root/lib/modules/$version" -name "$m.ko*" | head -1)
  if [ -n "$f" ]; then
    case "$f" in *.xz) xz -dc "$f" > "$g/lib/modules/$m.ko" ;; *.zst) zstd -qdc "$f" > "$g/lib/modules/$m.ko" ;; *) cp "$f" "$g/lib/modules/$m.ko" ;; esac
  fi
done
install -m 755 "$here/guest-init" "$g/init"
(cd "$g" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/guest-initrd.gz"
cp "$work/vmlinuz" "$root/root/guest-vmlinuz"
cp "$work/guest-initrd.gz" "$root/root/guest-initrd.gz"
# The guest's disk: random data, so nothing compresses or dedups along the way.
dd if=/dev/urandom of="$root/root/guest-disk.img" bs=1M count=64 status=none

rm -rf "$root/var/cache/apt/archives"/*.deb
mkfs.ext4 -q -F -L xenroot -d "$root" "$work/root.ext4" 3G
rm -rf "$root" "$g"
echo "$version" > "$work/kernel-version"
echo "$stamp" > "$work/stamp"
rm -rf "$out"; mv "$work" "$out"
echo "xen-host: image ready in $out ($(( $(date +%s) - start )) s)"
