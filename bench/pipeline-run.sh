#!/usr/bin/env bash
# End-to-end run throughput: a demo Apogée database of N students archived into a folder.
#
#   bench/pipeline-run.sh 10000     # and 100000
#
# Prints the run's summary line (dossiers/s, MiB/s) and /usr/bin/time -v's peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
work=${WORK:-$(mktemp -d)}
go build -o "$work/versement" ./cmd/versement
db="$work/apogee-$n.db"
[ -f "$db" ] || "$work/versement" demo-db --profile apogee --dossiers "$n" --out "$db" 2>/dev/null
rm -rf "$work/archives" "$work/state"
/usr/bin/time -v "$work/versement" --log-level warn run --profile apogee --source "$db" --as-of 2026-11-30 \
  --target "dir://$work/archives" --state "$work/state" >"$work/summary.txt" 2>"$work/time.txt"
grep -E "SIP\(s\)|dossiers in" "$work/summary.txt"
grep -E "Maximum resident|Elapsed \(wall" "$work/time.txt"
du -sh "$work/archives"
