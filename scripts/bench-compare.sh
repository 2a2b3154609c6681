#!/usr/bin/env bash
# Compares two commits on this machine: a clean release build of each (timed), then the intake,
# Open311 and page benchmarks, runs alternated (A, B, A, B …) so both see the same noise.
# Usage: scripts/bench-compare.sh BEFORE AFTER [RUNS]   (results in $OUT, default /tmp/bench-compare)
set -euo pipefail
before=$1 after=$2 runs=${3:-3}
out=${OUT:-/tmp/bench-compare}
repo=$(git rev-parse --show-toplevel)
mkdir -p "$out"
for v in before after; do
  rev=${!v}
  rm -rf "$out/$v-src" "$out/$v-target"
  git -C "$repo" worktree add --detach "$out/$v-src" "$rev" -q
  (cd "$out/$v-src" && /usr/bin/time -v cargo build --release --workspace --target-dir "$out/$v-target") \
    > "$out/$v-build.log" 2>&1
  git -C "$repo" worktree remove --force "$out/$v-src"
done
log="$out/results.log"
: > "$log"
for what in intake open311 pages; do
  for run in $(seq 1 "$runs"); do
    for v in before after; do
      echo "== $what $v run $run $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)" >> "$log"
      "$out/$v-target/release/gongzhi" bench "$what" >> "$log" 2>&1
    done
  done
done
grep -E "Elapsed|Maximum resident" "$out"/*-build.log
echo "results: $log"
