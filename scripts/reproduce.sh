#!/usr/bin/env bash
# The main job: installs what migscope needs, builds it, and reproduces the paper in the embedded
# lab (`migscope reproduce`): a 1 GiB guest reads 4 GiB of its iSCSI disk while it is migrated live
# and non-live over 100 and 10 Mbit/s; the report with the paper's figures and numbers lands in
# results/paper-report/report.html. The full run takes hours at 10 Mbit/s (as the paper's did) and
# is resumable: run this again to continue. Arguments go to `migscope reproduce`, e.g. --quick for a
# small version in minutes, or --link full-duplex.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH

bash scripts/install-deps.sh
swift build -c release --product migscope
.build/release/migscope reproduce "$@"
echo "the lab stays up for a look ('.build/release/migscope lab status'); '.build/release/migscope lab down' removes it"
