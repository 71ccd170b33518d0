#!/bin/bash
# Runs inside the Xen test host's dom0 (as the payload's `run`): migrates a PV guest to localhost
# through migscope in each of the ways the tests check, and keeps everything they look at in
# /results (summaries, the results database, libxenguest's progress verbatim, `xl list`, and
# whether the guest still reports after each migration). The checks themselves are XenHostTests.
set -u
export PATH=/payload:$PATH
R=/results
NAME=migscope-xen-guest
DB=$R/results.sqlite
say() { echo "scenario: $*"; }

create() { # create WORKLOAD: a fresh guest running WORKLOAD, once it reports
  xl destroy $NAME >/dev/null 2>&1
  rm -f /var/log/xen/console/guest-$NAME*.log
  cat > /tmp/$NAME.cfg <<CFG
name = "$NAME"
type = "pv"
kernel = "/root/guest-vmlinuz"
ramdisk = "/root/guest-initrd.gz"
extra = "console=hvc0 quiet migscope.workload=$1"
memory = 256
vcpus = 1
disk = [ 'format=raw,vdev=xvda,access=ro,target=/root/guest-disk.img' ]
CFG
  xl create /tmp/$NAME.cfg || return 1
  for _ in $(seq 120); do
    grep -q "MIGSCOPE rate seq=3 " /var/log/xen/console/guest-$NAME.log 2>/dev/null && return 0
    sleep 1
  done
  say "the guest did not report within 120 s"; tail -5 /var/log/xen/console/guest-$NAME.log; return 1
}

lines() { # rate lines so far, in every console log of the guest (xenconsoled names a log after the
  # domain's name when it appears, so a migrated guest writes to guest-NAME--incoming.log)
  cat /var/log/xen/console/guest-$NAME*.log 2>/dev/null | grep -c "MIGSCOPE rate"
}

alive() { # alive TAG: does the guest, under its own name, still report? (new rate lines in 10 s)
  xl list > $R/$1-xl-list.txt 2>&1
  before=$(lines)
  sleep 10
  after=$(lines)
  state=$(xl list $NAME 2>/dev/null | awk 'NR == 2 {print $5}')
  echo "name=$NAME state=${state:-absent} lines_before=$before lines_after=$after" > $R/$1-alive.txt
  cat $R/$1-alive.txt
}

migrate() { # migrate TAG ARGS...: one recorded migration, its outputs kept under TAG
  tag=$1; shift
  say "$tag: migscope migrate $NAME --backend libxl $*"
  start=$(date +%s.%N)
  # The guest's console logs are followed by themselves (xenconsoled's guest-NAME*.log).
  migscope migrate $NAME --backend libxl --record --db $DB --baseline 3 --tail 3 \
    --progress-log $R/$tag-progress.log --json "$@" > $R/$tag.json 2> $R/$tag.stderr
  echo $? > $R/$tag.rc
  say "$tag: exit $(cat $R/$tag.rc) after $(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $start}") s"
  tail -3 $R/$tag.stderr
}

migscope --version > $R/version.txt 2>&1 || { say "migscope does not run here"; ldd /payload/migscope | grep "not found"; exit 1; }

# 1. Live, with a guest that keeps dirtying memory: several pre-copy rounds, then stop-and-copy.
create dirty && migrate live-dirty --live --to localhost && alive live-dirty

# 2. Non-live, with the guest reading its disk: one stop-and-copy round; vbd counters in dom0.
create read && migrate nonlive-read --non-live --to localhost && alive nonlive-read

# 3. Live over TCP to a receiver listening on loopback (the two-host path, on one host), both
# ends proving the key made here (the sender reads the same default key file).
migscope xen-receive --init-key > $R/init-key.txt 2>&1
create idle
migscope xen-receive --listen 127.0.0.1:8002 --once > $R/tcp-receiver.log 2>&1 &
sleep 1
migrate live-tcp --live --to 127.0.0.1:8002 && alive live-tcp
wait

# 4. The receiver killed during the transfer: the source must run on, under its name.
create dirty
( for _ in $(seq 600); do
    grep -q '"Frames iteration 1"' $R/killed-progress.log 2>/dev/null && break
    sleep 0.1
  done
  # The receiver and its libxl restore helper (which would otherwise go on reading the stream).
  pkill -9 -f "xen-receive --stdio" && pkill -9 -f "libxl-save-helper --restore-domain"
  echo "killed the receiver at $(date +%T.%N)" > $R/killed-when.txt ) &
migrate killed --live --to localhost
wait
alive killed

# 5. Aborted by migscope itself during pre-copy (--abort-after): the source runs on.
# Early in round 0 (256 MiB, ~9 s under TCG): at 12 s a fast run had already finished its stream.
create dirty && migrate aborted --live --to localhost --abort-after 5 && true
alive aborted

# 6. A plan through `migscope batch` (live and non-live, one run each), with its report.
cat > /tmp/xen-plan.yaml <<PLAN
name: xen-localhost
hosts: {backend: libxl, destination: localhost, domain: $NAME}
matrix: {mode: [live, non-live], link_rate: [none]}
baseline_s: 3
tail_s: 3
PLAN
create read
say "batch: migscope batch xen-plan.yaml"
migscope batch /tmp/xen-plan.yaml --db $R/batch.sqlite --out $R/batch-report > $R/batch.out 2> $R/batch.stderr
echo $? > $R/batch.rc
say "batch: exit $(cat $R/batch.rc)"; tail -3 $R/batch.stderr
alive batch

# 7. Live with the receiver started over ssh, as `xl migrate` does (to this host's own sshd).
mkdir -p /run/sshd /root/.ssh && chmod 700 /root/.ssh
ssh-keygen -A > /dev/null
ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_ed25519 <<< y > /dev/null
cat /root/.ssh/id_ed25519.pub > /root/.ssh/authorized_keys
ln -sf /payload/migscope /usr/local/bin/migscope
/usr/sbin/sshd
ssh-keyscan -H 127.0.0.1 > /root/.ssh/known_hosts 2> /dev/null
create idle && migrate live-ssh --live --to ssh://root@127.0.0.1 && alive live-ssh

# 8. A sender with another key: the receiver refuses it before reading anything; nothing restored.
create idle
migscope xen-receive --init-key --key /tmp/other.key > /dev/null 2>&1
migscope xen-receive --listen 127.0.0.1:8004 --once > $R/wrongkey-receiver.log 2>&1 &
sleep 1
migrate wrongkey --live --to 127.0.0.1:8004 --key /tmp/other.key
wait
xl list > $R/wrongkey-xl-list.txt 2>&1
alive wrongkey

# 9. A stranger on a port that answers what a receiver would ("ready", "restored 1", "running 1")
# without the key: the sender sends it nothing, and the source is never destroyed.
if busybox nc 2>&1 | grep -q -- "-l"; then
  nonce=$(printf 'ab%.0s' $(seq 32)); zeros=$(printf '00%.0s' $(seq 32))
  ( printf 'migscope-xen-auth 1 %s\n' "$nonce"; sleep 3; printf 'auth %s\nready\nrestored 1\nrunning 1\n' "$zeros"; sleep 3 ) \
    | busybox nc -l -p 8005 > $R/fake-received.txt 2>&1 &
  sleep 1
  migrate fake --live --to 127.0.0.1:8005
  wait
  alive fake
else
  echo "busybox nc cannot listen here" > $R/fake-skipped.txt
fi

# 10. The receiver stopped (SIGSTOP) once the guest is suspended for the last round; Ctrl-C to
# migscope aborts, and the guest runs on here under its name.
create dirty
( for _ in $(seq 1200); do
    grep -q "Domain now suspended" $R/stopped-progress.log 2>/dev/null && break
    sleep 0.1
  done
  pkill -STOP -f "xen-receive --stdio"
  sleep 3
  pkill -INT -f "migscope migrate $NAME"
  echo "stopped the receiver and interrupted migscope at $(date +%T.%N)" > $R/stopped-when.txt ) &
migrate stopped --live --to localhost
wait
pkill -9 -f "xen-receive --stdio"; pkill -9 -f "libxl-save-helper --restore-domain"
alive stopped

# 11. migscope itself killed (SIGKILL) once the guest is suspended: its journal is left, a new
# migration of the domain is refused, and 'migscope xen-recover' brings the guest back.
create dirty
( for _ in $(seq 1200); do
    grep -q "Domain now suspended" $R/sigkill-progress.log 2>/dev/null && break
    sleep 0.1
  done
  pkill -9 -f "migscope migrate $NAME"
  # What a dead migscope leaves running: its receiver child and libxl's save helpers.
  pkill -9 -f "xen-receive --stdio"; pkill -9 -f "libxl-save-helper"
  echo "killed migscope at $(date +%T.%N)" > $R/sigkill-when.txt ) &
migrate sigkill --live --to localhost
wait
sleep 1
xl list > $R/sigkill-before-xl-list.txt 2>&1
ls /run/migscope/xen > $R/sigkill-journal.txt 2>&1
migscope migrate $NAME --backend libxl --live --to localhost > /dev/null 2> $R/sigkill-refused.stderr; echo $? > $R/sigkill-refused.rc
migscope xen-recover > $R/sigkill-recover.txt 2>&1; echo $? > $R/sigkill-recover.rc
xl list > $R/sigkill-after-xl-list.txt 2>&1
alive sigkill

xl list > $R/final-xl-list.txt
migscope domains --on xen > $R/domains.txt 2>&1
say "done"
