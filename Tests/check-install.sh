#!/bin/bash
# `make install-files` into a scratch prefix: the binary, its bundle, the themes, completions for
# bash, zsh and fish and the man page land where they should; the installed `fit` works from
# another folder with the toolchain out of reach and finds the embedded model and the themes
# beside itself; `make uninstall` removes everything it installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=$(mktemp -d /tmp/fit-install.XXXXXX)
work=$(mktemp -d /tmp/fit-install-cwd.XXXXXX)
trap 'rm -rf "$prefix" "$work"' EXIT
make -s -C "$root" install-files PREFIX="$prefix" >/dev/null
fail=0
for f in bin/fit lib/fit/fit lib/fit/FiTExplorer_FiTTUI.resources/fit-emoji.safetensors \
         lib/fit/FiTExplorer_FiTTUI.resources/imagenet-1k-classes.json lib/fit/themes/default.theme \
         share/bash-completion/completions/fit share/zsh/site-functions/_fit share/fish/vendor_completions.d/fit.fish \
         share/man/man1/fit.1; do
  [ -e "$prefix/$f" ] || { echo "FAIL: $f was not installed"; fail=1; }
done
grep -q "complete.*fit" "$prefix/share/bash-completion/completions/fit" || { echo "FAIL: the bash completion is not one"; fail=1; }
grep -q "^#compdef fit" "$prefix/share/zsh/site-functions/_fit" || { echo "FAIL: the zsh completion is not one"; fail=1; }
grep -q "complete -c 'fit'" "$prefix/share/fish/vendor_completions.d/fit.fish" || { echo "FAIL: the fish completion is not one"; fail=1; }
grep -q '^\.Dt FIT 1' "$prefix/share/man/man1/fit.1" && grep -q "generate" "$prefix/share/man/man1/fit.1" \
  || { echo "FAIL: the man page is not fit's"; fail=1; }
# From another folder, by PATH, without the toolchain: the embedded model and the themes are found.
cd "$work"
run() { env -i PATH="$prefix/bin:/usr/bin:/bin" HOME="$work" "$@"; }
run fit generate --class heart --steps 2 --seed 1 --out heart.png --quiet || { echo "FAIL: the installed fit cannot generate"; fail=1; }
[ -s heart.png ] || { echo "FAIL: no picture"; fail=1; }
run fit inspect embedded | grep -q "binding: *ok" || { echo "FAIL: the installed fit does not find its model"; fail=1; }
[ "$(run fit --version)" = "$("$root/.build/release/fit" --version)" ] || { echo "FAIL: versions differ"; fail=1; }
make -s -C "$root" uninstall PREFIX="$prefix" >/dev/null
left=$(find "$prefix" -type f -o -type l)
[ -z "$left" ] || { echo "FAIL: uninstall left $left"; fail=1; }
[ "$fail" = 0 ] && echo "install: binary, bundle, themes, 3 completions and the man page; works by PATH from another folder; uninstall leaves nothing"
exit $fail
