/// The lab guest's /init: a busybox shell script that loads the virtio modules, then reads its disk
/// sequentially and reports its own rate once a second on a virtio console (hvc0).
///
/// Why not the serial port: under TCG during a migration, the emulated UART's transmit interrupts
/// stalled for tens of seconds, and lines reached the host in bursts; a virtio console hands each
/// line to QEMU at once.
///
/// Settings come from the kernel command line (migscope.*), so one initramfs serves every workload.
/// Rate lines look like
///   MIGSCOPE rate seq=12 up=15.02 read_bps=12058624 write_bps=0 read_total=150994944
/// and the reader's end like
///   MIGSCOPE done read_total=4294967296 seconds=462.10 up=470.3
/// `up` is the guest's own uptime; the host stamps each line as it arrives, which is what puts the
/// guest's view on migscope's clock (the guest's clock stops while it is paused).
enum GuestInit {
    static let script = #"""
    #!/bin/busybox sh
    /bin/busybox mkdir -p /proc /sys /dev /tmp
    /bin/busybox mount -t proc proc /proc
    /bin/busybox mount -t sysfs sys /sys
    /bin/busybox mount -t devtmpfs dev /dev
    for applet in $(/bin/busybox --list); do
      [ "$applet" = busybox ] || [ -e /bin/$applet ] || /bin/busybox ln -s busybox /bin/$applet
    done
    export PATH=/bin
    for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk virtio_console \
             scsi_common scsi_mod crct10dif_common crc-t10dif crc64 crc64_rocksoft_generic crc64-rocksoft t10-pi sd_mod virtio_scsi; do
      [ -f /modules/$m.ko ] && insmod /modules/$m.ko 2>/dev/null
    done

    arg() { # value of migscope.$1 on the kernel command line, or $2
      v=$(tr ' ' '\n' < /proc/cmdline | grep "^migscope.$1=" | head -n 1 | cut -d= -f2-)
      echo "${v:-$2}"
    }
    MODE=$(arg mode buffered)
    BS_KIB=$(arg bs_kib 1024)
    AMOUNT_MIB=$(arg amount_mib 0)
    TRIGGER=$(arg trigger 0)
    DISK=$(arg disk vda)
    case "$DISK" in vda|sda) ;; *) DISK=vda ;; esac
    if [ "$(arg probe 0)" = 1 ]; then
      echo "MIGSCOPE probe ok"
      poweroff -f
    fi

    i=0
    # A SCSI disk appears only after the bus is scanned: up to 30 s under TCG.
    while { [ ! -b /dev/$DISK ] || [ ! -c /dev/hvc0 ] || { [ "$TRIGGER" = 1 ] && [ ! -c /dev/hvc1 ]; }; } && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
    REPORT=/dev/console
    [ -c /dev/hvc0 ] && REPORT=/dev/hvc0
    report() { echo "$*" > $REPORT; }
    if [ ! -b /dev/$DISK ]; then report "MIGSCOPE error no disk /dev/$DISK"; echo "MIGSCOPE error no disk /dev/$DISK"; fi
    DISK_MIB=$(( $(cat /sys/block/$DISK/size) / 2048 ))
    [ "$TRIGGER" = 1 ] || report "MIGSCOPE start mode=$MODE bs_kib=$BS_KIB amount_mib=$AMOUNT_MIB disk_mib=$DISK_MIB"
    report "MIGSCOPE booted"
    echo "MIGSCOPE booted (reports on $REPORT)"

    uptime_s() { cut -d' ' -f1 /proc/uptime; }

    reader() {
      if [ "$TRIGGER" = 1 ] && [ -c /dev/hvc1 ]; then
        # Wait for the host's go on the control console, so the read starts when recording does.
        report "MIGSCOPE waiting for the host's go"
        read -r go < /dev/hvc1
        report "MIGSCOPE start mode=$MODE bs_kib=$BS_KIB amount_mib=$AMOUNT_MIB disk_mib=$DISK_MIB"
      fi
      # An idle guest reads nothing and never says done; its rate lines still come every second.
      [ "$MODE" = idle ] && return
      flag=""
      [ "$MODE" = direct ] && flag="iflag=direct"
      chunk_mib=64
      done_mib=0
      pos_mib=0
      start=$(uptime_s)
      while [ "$AMOUNT_MIB" = 0 ] || [ $done_mib -lt "$AMOUNT_MIB" ]; do
        n=$chunk_mib
        [ "$AMOUNT_MIB" != 0 ] && [ $((AMOUNT_MIB - done_mib)) -lt $n ] && n=$((AMOUNT_MIB - done_mib))
        [ $((DISK_MIB - pos_mib)) -lt $n ] && n=$((DISK_MIB - pos_mib))
        dd if=/dev/$DISK of=/dev/null bs=${BS_KIB}k skip=$((pos_mib * 1024 / BS_KIB)) count=$((n * 1024 / BS_KIB)) $flag 2>/dev/null
        done_mib=$((done_mib + n))
        pos_mib=$((pos_mib + n))
        if [ $pos_mib -ge $DISK_MIB ]; then
          pos_mib=0
          # Start the next pass cold, as the first one was.
          echo 3 > /proc/sys/vm/drop_caches
        fi
      done
      end=$(uptime_s)
      report "MIGSCOPE done read_total=$((done_mib * 1048576)) seconds=$(awk "BEGIN{printf \"%.2f\", $end - $start}") up=$end"
    }
    reader &

    """# + reportingLoop

    /// The rate and memory lines, once a second and every 5 s, on shell builtins alone (a
    /// unit test runs it under busybox and counts what it starts: nothing, once the FIFO exists).
    static let reportingLoop = #"""
    # The reporting loop runs on the shell's builtins alone: every process it started dirtied guest
    # memory (page tables, stacks, a new process's data), and the six a second of sleep, cut, cat
    # and awk made an idle guest dirty 1.2 MiB/s (QEMU counted ~300 pages/s while migrating), as
    # much as a 10 Mbit/s link sends. A read that times out on a FIFO nobody writes is the sleep.
    mkfifo /tmp/tick
    if [ -p /tmp/tick ]; then exec 3<> /tmp/tick; tick() { read -r -t 1 _ <&3; }; else tick() { sleep 1; }; fi
    centis() { read -r up _ < /proc/uptime; s=${up%.*}; f=${up#*.}; now=$((s * 100 + ${f#0})); }
    counters() { read -r _ _ r _ _ _ w _ < /sys/block/$DISK/stat; }
    seq=0
    counters; last_r=$r; last_w=$w; centis; last_t=$now
    while true; do
      tick
      centis; counters
      seq=$((seq + 1))
      dt=$((now - last_t)); [ $dt -gt 0 ] || dt=100
      report "MIGSCOPE rate seq=$seq up=$up read_bps=$(( (r - last_r) * 51200 / dt )) write_bps=$(( (w - last_w) * 51200 / dt )) read_total=$((r * 512))"
      last_r=$r; last_w=$w; last_t=$now
      # Free memory every 5 s: pages the guest never wrote are zero, which QEMU sends as markers,
      # so a prediction sends the rest; with the block and page caches, the memory a reader through
      # them cycles through (freed pages are allocated again).
      if [ $((seq % 5)) = 1 ]; then
        while read -r key value _; do
          case "$key" in MemFree:) free=$value ;; Buffers:) buffers=$value ;; Cached:) cached=$value; break ;; esac
        done < /proc/meminfo
        report "MIGSCOPE mem seq=$seq free_kib=$free buffers_kib=$buffers cached_kib=$cached"
      fi
    done
    """#
}
