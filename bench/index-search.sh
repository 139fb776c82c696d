#!/usr/bin/env bash
# Consultation index search latency (issue #15: p95 under 50 ms on the index of a 1M-dossier run),
# against the obvious tool on the same data.
#
#   bench/index-search.sh                 # 100000 entries (quick)
#   bench/index-search.sh 1000000         # the issue's size (the build takes minutes; cached)
#   QUERIES=500 CLI=20 bench/index-search.sh 1000000
#
# It builds (or reuses) an index of N generated entries (indextest.Generator: a few thousand
# French surnames, a few hundred first names, accents, particles, birth dates 1950–2008, 1–3
# identifiers each) with versement's index package, and the same people as one flat table for the
# sqlite3 CLI (identifier columns indexed, names as typed). Both are cached in
# $INDEX_BENCH_CACHE (default /tmp/versement-index-bench), keyed by N, so a second run only
# searches. Then it runs QUERIES queries of each kind in process, timing each Search call:
#   id               an exact COD_ETU, INE or older number
#   name+born        first and birth name, either order and case, with the full birth date
#   typo+year        the birth name misspelt by the edits it tolerates (1, or 2 from 8 letters), birth year
#   name-alone       first and birth name, no date (capped at the default limit, 50)
#   unaccented+year  a name that has accents, typed in capitals without them, birth year
# and CLI queries of each kind through `sqlite3 -readonly` with `.timer on` (LIKE/lower() over
# the name columns, `=` on the identifiers), and prints p50/p95/p99 in ms, the recall (the
# searched person among the matches), the ratio sqlite3 p50 / versement p50 per kind, the build
# time and the file sizes. No sqlite3 installed: that part is skipped with a message.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
cache=${INDEX_BENCH_CACHE:-/tmp/versement-index-bench}
mkdir -p "$cache"
chmod 700 "$cache"
go build -o "$cache/index-bench" ./bench/index
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD)"
plain_flag=(-plain "$cache/plain-$n.db")
if ! command -v "${SQLITE3:-sqlite3}" >/dev/null; then
  echo "sqlite3 skipped: ${SQLITE3:-sqlite3} is not installed (apt-get install sqlite3)"
  plain_flag=()
fi
out=$(/usr/bin/time -f 'rss_kb=%M' "$cache/index-bench" -n "$n" -index "$cache/index-$n.db" "${plain_flag[@]}" \
  -queries "${QUERIES:-200}" -cli "${CLI:-10}" -sqlite3 "${SQLITE3:-sqlite3}" 2>&1)
echo "$out" | grep -v '^rss_kb=' | grep -v '^versement kind\|^sqlite3 kind' || true
field() { sed -n "s/.*[ ^]$1=\([0-9.]*\).*/\1/p" <<<" $2"; }
printf '%-16s %9s %9s %9s %8s   %9s %9s %8s   %10s\n' kind 'p50 ms' 'p95 ms' 'p99 ms' recall 'sql3 p50' 'sql3 p95' recall 'ratio p50'
for k in id name+born typo+year name-alone unaccented+year; do
  v=$(grep "^versement kind=$k " <<<"$out")
  c=$(grep "^sqlite3 kind=$k " <<<"$out" || true)
  ratio=-; cp50=-; cp95=-; crec=-
  if [ -n "$c" ]; then
    cp50=$(field p50 "$c"); cp95=$(field p95 "$c"); crec=$(sed -n 's/.*recall=\([0-9.]*%\).*/\1/p' <<<"$c")
    ratio=$(awk -v a="$cp50" -v b="$(field p50 "$v")" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }')
  fi
  printf '%-16s %9s %9s %9s %8s   %9s %9s %8s   %10s\n' "$k" "$(field p50 "$v")" "$(field p95 "$v")" "$(field p99 "$v")" \
    "$(sed -n 's/.*recall=\([0-9.]*%\).*/\1/p' <<<"$v")" "$cp50" "$cp95" "$crec" "$ratio"
done
echo "peak RSS of the run: $(( $(grep -o 'rss_kb=[0-9]*' <<<"$out" | cut -d= -f2) / 1024 )) MB"
ls -l "$cache/index-$n.db" "$cache/plain-$n.db" 2>/dev/null | awk '{printf "%s %.1f MB\n", $NF, $5/1e6}'
echo "ratio = sqlite3 p50 / versement p50 (> 1: versement faster); sqlite3 latencies from .timer: real, or user+sys where real (ms resolution) rounds below it"
