#!/usr/bin/env bash
# Fuzzes the parsers of untrusted files (Sources/FiTFuzz) with libFuzzer, SECONDS per target
# (default 20), from the committed seed corpus and every regression input found so far.
# A finding stops with a non-zero exit and saves the input as Fuzz/regressions/TARGET/new-*:
# fix the bug, rename the file to say what it was, and commit it (the Swift tests replay it).
# FUZZ_SEED (default 1) makes a run repeatable.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
swift build --sanitize fuzzer -Xswiftc -DFUZZING --product fit-fuzz --scratch-path .build/fuzz 2>&1 | tail -n 1
binary=.build/fuzz/debug/fit-fuzz
for target in safetensors png-record; do
  work=$(mktemp -d)
  log=$(mktemp)
  mkdir -p "Fuzz/regressions/$target"
  if ! FIT_FUZZ_TARGET=$target SWIFT_BACKTRACE=enable=no "$binary" "$work" "Fuzz/corpus/$target" "Fuzz/regressions/$target" \
      -seed="${FUZZ_SEED:-1}" -max_total_time="$seconds" -max_len=20000 -timeout=10 \
      -rss_limit_mb=1024 -malloc_limit_mb=1024 -artifact_prefix="Fuzz/regressions/$target/new-" >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz $target: FAILED (input saved under Fuzz/regressions/$target/new-*)"
    rm -rf "$work" "$log"
    exit 1
  fi
  echo "fuzz $target: $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second\(s\)' "$log"), no crash, hang or runaway allocation"
  rm -rf "$work" "$log"
done
