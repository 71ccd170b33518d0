#!/usr/bin/env bash
# Installs migscope into a prefix (default /usr/local): the release binary with its built-in plans
# in PREFIX/lib/migscope (linked from PREFIX/bin), the man page, generated from the command line
# itself by swift-argument-parser's manual plugin, in PREFIX/share/man/man1, and completions for
# bash, zsh and fish (subcommands, options, plan files, run ids from the results database).
#   bash scripts/install.sh [--prefix DIR]
# The binary uses the Swift runtime of the toolchain that built it (/opt/swift here); the lab's
# system packages come from scripts/install-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH

prefix=/usr/local
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] && [ -n "$2" ] || { echo "install.sh: --prefix needs a folder, e.g. --prefix /usr/local" >&2; exit 2; }; prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; [ -n "$prefix" ] || { echo "install.sh: --prefix needs a folder" >&2; exit 2; }; shift ;;
    -h|--help) sed -n 2,8p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (the only option is --prefix DIR)" >&2; exit 2 ;;
  esac
done
case "$prefix" in /*) ;; *) prefix="$(pwd)/$prefix" ;; esac

swift build -c release --product migscope
bin=$(swift build -c release --show-bin-path)
lib="$prefix/lib/migscope"
install -d "$lib" "$prefix/bin" "$prefix/share/man/man1" "$prefix/share/bash-completion/completions" \
  "$prefix/share/zsh/site-functions" "$prefix/share/fish/vendor_completions.d"
install -m 755 "$bin/migscope" "$lib/migscope"
# Bundle.module finds a target's resources beside the executable it runs as.
for r in "$bin"/*.resources; do rm -rf "${lib:?}/$(basename "$r")"; cp -R "$r" "$lib/"; done
ln -sfn ../lib/migscope/migscope "$prefix/bin/migscope"

man_tmp=$(mktemp -d /tmp/migscope-man.XXXXXX)
trap 'rm -rf "$man_tmp"' EXIT
swift package --allow-writing-to-directory "$man_tmp" generate-manual --output-directory "$man_tmp" >/dev/null
install -m 644 "$man_tmp/migscope.1" "$prefix/share/man/man1/migscope.1"

"$lib/migscope" --generate-completion-script bash > "$prefix/share/bash-completion/completions/migscope"
"$lib/migscope" --generate-completion-script zsh > "$prefix/share/zsh/site-functions/_migscope"
"$lib/migscope" --generate-completion-script fish > "$prefix/share/fish/vendor_completions.d/migscope.fish"

echo "installed $("$prefix/bin/migscope" version | head -1) into $prefix:"
echo "  $prefix/bin/migscope -> $lib/migscope"
echo "  $prefix/share/man/man1/migscope.1 ('man migscope')"
echo "  completions: $prefix/share/bash-completion/completions/migscope, $prefix/share/zsh/site-functions/_migscope, $prefix/share/fish/vendor_completions.d/migscope.fish"
