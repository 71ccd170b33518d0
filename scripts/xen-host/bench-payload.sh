#!/bin/bash
# Runs inside the Xen test host's dom0 (as the payload's `run`, from bench.sh): PAIRS alternating
# pairs of live localhost migrations of an idle PV guest, one plain, one recorded, and the time
# and CPU each took, into /results/bench.tsv.
export PATH=/payload:$PATH
PAIRS=$(cat /payload/pairs 2>/dev/null || echo 4)
NAME=migscope-xen-guest
R=/results
cat > /tmp/$NAME.cfg <<CFG
name = "$NAME"
type = "pv"
kernel = "/root/guest-vmlinuz"
ramdisk = "/root/guest-initrd.gz"
extra = "console=hvc0 quiet migscope.workload=idle"
memory = 256
vcpus = 1
CFG
xl create /tmp/$NAME.cfg
sleep 20
TIMEFORMAT="%U %S"
echo -e "pair\tkind\telapsed_s\tcpu_user_s\tcpu_sys_s" > $R/bench.tsv
for i in $(seq $PAIRS); do
  for kind in plain recorded; do
    [ $((i % 2)) -eq 0 ] && kind=$([ $kind = plain ] && echo recorded || echo plain)  # alternate the order
    extra=""
    [ $kind = recorded ] && extra="--record --db $R/bench.sqlite --baseline 0 --tail 0"
    cpu=$( { time migscope migrate $NAME --backend libxl --live --to localhost --json $extra > /tmp/out.json 2>/dev/null; } 2>&1 )
    elapsed=$(grep '"elapsed_s"' /tmp/out.json | tr -dc '0-9.')
    echo -e "$i\t$kind\t$elapsed\t${cpu% *}\t${cpu#* }" | tee -a $R/bench.tsv
  done
done
