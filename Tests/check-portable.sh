#!/bin/bash
# The portable release binary (swift build -c release --static-swift-stdlib) needs only Debian's
# libraries: no library may resolve into the Swift toolchain, none may be missing, no Swift
# runtime library may be linked dynamically, and the binary runs with the toolchain out of reach.
set -euo pipefail
binary=${1:-.build/release/fit}
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")
libraries=$(ldd "$binary")
echo "$libraries"
fail=0
if grep -q "not found" <<<"$libraries"; then echo "FAIL: a library is missing"; fail=1; fi
if grep -qF "$toolchain" <<<"$libraries"; then echo "FAIL: a library resolves into the toolchain ($toolchain)"; fail=1; fi
if grep -qE "libswift|libFoundation|libdispatch|libBlocksRuntime|lib_FoundationICU" <<<"$libraries"; then
  echo "FAIL: a Swift runtime library is linked dynamically"; fail=1
fi
if ! env -i PATH=/usr/bin:/bin LD_LIBRARY_PATH= "$binary" --version >/dev/null; then echo "FAIL: the binary does not run without the toolchain"; fail=1; fi
[ "$fail" = 0 ] && echo "portable: only system libraries ($(grep -c '=>' <<<"$libraries") resolved), none under $toolchain"
exit $fail
