#!/usr/bin/env bash
# End-to-end run throughput: a demo Apogée database of N students archived into a folder, against
# the shell pipeline that does the least anyone could call an export of the same tables.
#
#   bench/pipeline-run.sh 10000 [RUNS]          # RUNS defaults to 5
#   bench/pipeline-run.sh 10000,100000 3        # several sizes: a peak-RSS line per size at the end
#   WORK=/tmp/vbench bench/pipeline-run.sh ...  # keep (and reuse) the demo bases in WORK
#
# Alternates, RUNS times, on a fresh output folder each time:
#   (a) versement --log-level warn run --profile apogee --source DB --as-of 2026-11-30
#       --target dir://OUT --state STATE; sync
#   (b) for each table of the profile (root and children, from `versement profiles show apogee`):
#       sqlite3 -json DB 'select * from T' > T.json; then zip -0 -q out.zip *.json;
#       sha256sum out.zip > sums; sync
# Odd runs start with (a), even runs with (b). Both timed whole, sync included, by /usr/bin/time (wall, user+sys CPU, peak RSS). The reference
# does much less than a run (no join by dossier, no SEDA manifest, no deflate, no ledger), so it
# is a floor: ratio b/a > 1 means versement is faster than even that. Public tools only: bash,
# go, sqlite3, zip, sha256sum, sync, awk, GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${1:-10000}
runs=${2:-5}
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
go build -o "$work/versement" ./cmd/versement
v="$work/versement"
tables=$("$v" profiles show apogee | awk '$(NF-1) == "table:" {print $NF}')

# helpers: median and min of numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END{if (NR%2) printf "%.2f", a[(NR+1)/2]; else printf "%.2f", (a[NR/2]+a[NR/2+1])/2}'; }
minimum() { sort -g | head -1 | awk '{printf "%.2f", $1}'; }
maximum() { sort -g | tail -1; }

# timed CMD...: runs CMD under GNU time into $tf; prints "wall cpu rss_kb"
timed() {
  local tf="$work/time.out"
  if ! /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@"; then
    echo "failed: $*" >&2; cat "$tf" >&2; return 1
  fi
  tail -1 "$tf" | awk '{printf "%.2f %.2f %d\n", $1, $2+$3, $4}'
}

run_versement() { # db out state
  "$v" --log-level warn run --profile apogee --source "$1" --as-of 2026-11-30 \
    --target "dir://$2" --state "$3" >"$work/summary.txt" 2>"$work/stderr.txt" && sync
}
run_shell() { # db dir
  local t
  for t in $tables; do sqlite3 -json "$1" "select * from $t" >"$2/$t.json"; done
  (cd "$2" && zip -0 -q out.zip ./*.json && sha256sum out.zip >sums) && sync
}
export -f run_versement run_shell
export v work tables

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), SHA-NI: $(grep -o -m1 sha_ni /proc/cpuinfo || echo no), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tables: $(echo $tables)"
rss_lines=()
for n in ${sizes//,/ }; do
  db="$work/apogee-$n.db"
  [ -f "$db" ] || "$v" demo-db --profile apogee --dossiers "$n" --out "$db" 2>/dev/null
  sync
  echo
  echo "N=$n: $(du -h "$db" | cut -f1) base, $runs runs alternating (a) versement run, (b) sqlite3 -json + zip -0 + sha256sum; load $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%4s %8s %8s %8s %7s %7s %9s %9s\n' run wall_a wall_b 'b/a' cpu_a cpu_b rss_a_MB rss_b_MB
  : >"$work/rows"
  for i in $(seq "$runs"); do
    rm -rf "$work/archives" "$work/state" "$work/shell"; mkdir -p "$work/shell"; sync
    # odd runs: versement first; even runs: the shell pipeline first
    if [ $((i % 2)) = 0 ]; then out=$(timed bash -c 'run_shell "$0" "$1"' "$db" "$work/shell"); sync; fi
    outa=$(timed bash -c 'run_versement "$0" "$1" "$2"' "$db" "$work/archives" "$work/state")
    if [ $((i % 2)) = 1 ]; then sync; out=$(timed bash -c 'run_shell "$0" "$1"' "$db" "$work/shell"); fi
    read -r wa ca ra <<<"$outa"
    read -r wb cb rb <<<"$out"
    [ "$i" = 1 ] && cp "$work/summary.txt" "$work/summary-first.txt" && du -sh "$work/archives" >"$work/du.txt"
    r=$(awk -v a="$wa" -v b="$wb" 'BEGIN{printf "%.2f", b/a}')
    echo "$wa $wb $r $ca $cb $ra $rb" >>"$work/rows"
    printf '%4d %8.2f %8.2f %8.2f %7.2f %7.2f %9.1f %9.1f\n' "$i" "$wa" "$wb" "$r" "$ca" "$cb" \
      "$(awk -v k="$ra" 'BEGIN{print k/1000}')" "$(awk -v k="$rb" 'BEGIN{print k/1000}')"
  done
  rmin=$(cut -d' ' -f3 "$work/rows" | minimum); rmed=$(cut -d' ' -f3 "$work/rows" | median)
  wmed=$(cut -d' ' -f1 "$work/rows" | median); wmin=$(cut -d' ' -f1 "$work/rows" | minimum)
  cmed_a=$(cut -d' ' -f4 "$work/rows" | median); cmed_b=$(cut -d' ' -f5 "$work/rows" | median)
  rss=$(cut -d' ' -f6 "$work/rows" | maximum); rss_b=$(cut -d' ' -f7 "$work/rows" | maximum)
  echo "ratio b/a (>1: versement faster): min $rmin, median $rmed"
  echo "versement: $(awk -v n="$n" -v t="$wmed" 'BEGIN{printf "%.0f", n/t}') dossiers/s at the median wall ($wmed s; best $wmin s, $(awk -v n="$n" -v t="$wmin" 'BEGIN{printf "%.0f", n/t}')/s); CPU median $cmed_a s against $cmed_b s"
  # the old lines: the run's own summary, peak RSS and wall, and the archives' size
  grep -E "SIP\(s\)|dossiers in" "$work/summary-first.txt" || true
  echo "Maximum resident set size (kbytes): $rss (versement, highest of $runs runs; shell pipeline $rss_b)"
  echo "Elapsed (wall clock) time (s): $wmed (median)"
  cat "$work/du.txt"; du -sh "$work/shell/out.zip"
  rss_lines+=("peak RSS N=$n: $(awk -v k="$rss" 'BEGIN{printf "%.1f", k/1000}') MB")
  [ -z "${rss0:-}" ] && rss0=$rss
done
echo
echo "load at end $(cut -d' ' -f1-3 /proc/loadavg)"
for l in "${rss_lines[@]}"; do
  k=$(echo "$l" | awk '{print $4*1000}')
  echo "$l ($(awk -v k="$k" -v z="$rss0" 'BEGIN{d=(k/z-1)*100; printf "%+d", (d<0 ? d-0.5 : d+0.5)}') % against the first size; aim: 1M within +20 % of 10k)"
done
