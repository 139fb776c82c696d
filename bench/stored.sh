#!/usr/bin/env bash
# What holding STORED objects back costs the SIP writer (so that their CRC-32 and sizes go in the
# local header, which VITAM's streaming reader needs): BenchmarkWriter (one 16 KiB JSON and one
# 64 KiB photo per dossier) at a commit before the change against the working tree, alternating
# runs on the same cores, and the ratio new/old of MB/s (min, median).
#
#   bench/stored.sh [RUNS] [OLD_COMMIT]     # default 5 runs, 506d210 (the writer before the change)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
old=${2:-506d210}
wt=$(mktemp -d /tmp/versement-stored-old.XXXXXX)
trap 'git worktree remove --force "$wt" >/dev/null 2>&1 || true' EXIT
git worktree add -q --detach "$wt" "$old"
mbs() { (cd "$1" && go test -run XXX -bench 'BenchmarkWriter$/level1' -benchtime 2s ./seda/ | awk '/MB\/s/ {for (i=1;i<=NF;i++) if ($(i+1)=="MB/s") print $i}'); }
ratios=()
for i in $(seq "$runs"); do
  o=$(mbs "$wt"); n=$(mbs .)
  r=$(awk -v n="$n" -v o="$o" 'BEGIN{printf "%.3f", n/o}')
  echo "run $i: old $o MB/s, new $n MB/s, ratio $r"
  ratios+=("$r")
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {printf "new/old MB/s: min %s, median %s (%d runs)\n", a[1], a[int((NR+1)/2)], NR}'
