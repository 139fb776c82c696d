#!/usr/bin/env bash
# Verify throughput against sha256sum and openssl over the same payload, and the writer's
# throughput and peak memory.
#
#   bench/verify.sh                     # ~1 GiB SIPs (what docs/seda.md reports)
#   SIZE_MB=256 FILES=1024 bench/verify.sh   # smaller, for a busy machine
#
# Two SIPs of SIZE_MB: one file, and FILES files. Their objects are random bytes (stored, like
# photos), also written as plain files so that sha256sum and openssl hash exactly the bytes that
# `versement verify` hashes (it also parses the manifest and checks the layout). Each timing is
# the best of RUNS runs with a warm page cache. Ratios > 1 mean verify is faster.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-1024}
FILES=${FILES:-4096}
RUNS=${RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/versement-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

go build -o "$work/versement" ./cmd/versement
go build -o "$work/mksip" ./bench/mksip

now() { date +%s.%N; }
best() { # best wall time of RUNS runs of "$@"
  local b="" s e t
  for _ in $(seq "$RUNS"); do
    s=$(now); "$@" >/dev/null; e=$(now)
    t=$(awk -v e="$e" -v s="$s" 'BEGIN{printf "%.3f", e-s}')
    if [ -z "$b" ] || awk -v t="$t" -v b="$b" 'BEGIN{exit !(t < b)}'; then b=$t; fi
  done
  echo "$b"
}
rate() { awk -v m="$SIZE_MB" -v t="$1" 'BEGIN{printf "%.2f", m*1048576/t/1e9}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "payload: $SIZE_MB MiB; many-file case: $FILES files; best of $RUNS runs"
printf '\n%-10s %-6s %10s %8s\n' case tool seconds GB/s
for shape in one many; do
  n=1; [ "$shape" = many ] && n=$FILES
  size=$((SIZE_MB * 1048576 / n))
  mkdir -p "$work/$shape"
  "$work/mksip" -out "$work/$shape.zip" -payload "$work/$shape" -files "$n" -size "$size" >/dev/null
  cat "$work/$shape"/* >/dev/null; cat "$work/$shape.zip" >/dev/null   # warm the page cache
  t_sum=$(best sh -c "cd '$work/$shape' && ls | xargs sha256sum")
  t_ssl=$(best sh -c "cd '$work/$shape' && ls | xargs openssl dgst -sha256")
  t_ver=$(best "$work/versement" --log-format text verify "$work/$shape.zip")
  for row in "sha256sum $t_sum" "openssl $t_ssl" "verify $t_ver"; do
    set -- $row
    printf '%-10s %-10s %8.2f %8s\n' "$shape-file" "$1" "$2" "$(rate "$2")"
  done
  echo "$shape-file: verify vs openssl $(ratio "$t_ssl" "$t_ver")x, vs sha256sum $(ratio "$t_sum" "$t_ver")x"
  echo "$shape-file: verify peak RSS $( { /usr/bin/time -f '%M' "$work/versement" --log-format text verify "$work/$shape.zip" >/dev/null; } 2>&1 | tail -1) KiB"
  rm -rf "$work/$shape" "$work/$shape.zip"
done

echo
echo "writer (mksip through seda.Writer; peak RSS from /usr/bin/time):"
for kind in random json; do
  n=$FILES; size=$((SIZE_MB * 1048576 / n))
  out=$( { /usr/bin/time -f 'rss_kb=%M' "$work/mksip" -out "$work/w.zip" -files "$n" -size "$size" -kind "$kind"; } 2>&1 )
  echo "  $kind ($([ $kind = random ] && echo stored || echo deflated)): $(echo "$out" | grep wrote | sed 's/.*objects, //'), $(echo "$out" | grep -o 'rss_kb=[0-9]*')"
  rm -f "$work/w.zip"
done
