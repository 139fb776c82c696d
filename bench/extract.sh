#!/usr/bin/env bash
# Extraction speed and memory, against the obvious tool on the same data.
#
#   bench/extract.sh                 # 10000 students (quick)
#   bench/extract.sh 10000 1000000   # the sizes to compare peak RSS at (1M: ~20M rows, minutes)
#   REPS=5 bench/extract.sh          # best of 5 runs of each tool (default 3)
#
# For each size N it builds the Apogée demo database (N students) in PostgreSQL and in SQLite,
# then:
#   - runs bench/extract (versement's extract package: every dossier merge-joined from its 10
#     tables, rendered as its JSON document, every photo LOB streamed) on PostgreSQL and SQLite;
#   - runs psql with one `\copy (SELECT * FROM "T" ORDER BY …) TO STDOUT` per table of the same
#     class, in one session, output counted by wc;
# and prints dossiers/s, MB/s, the time ratio psql/versement (≥ 0.5 is the aim: versement at least
# half as fast as a raw dump that does no joining, typing or JSON), and peak RSS per size.
#
# PostgreSQL: BENCH_PG=postgres://… (a server where the script may create databases), or else a
# private server is started as scripts/test does.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000)
work=$(mktemp -d /tmp/versement-bench.XXXXXX)
chmod 755 "$work" # the postgres user must reach its data folder inside
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PGB=$(pg_bin)
cleanup() {
  if [ -z "${BENCH_PG:-}" ] && [ -f "$work/pg/data/postmaster.pid" ]; then
    run_pg "$PGB/pg_ctl" -D "$work/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/versement" ./cmd/versement
go build -o "$work/extract-bench" ./bench/extract

if [ -z "${BENCH_PG:-}" ]; then
  mkdir -p "$work/pg"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$work/pg"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  run_pg "$PGB/initdb" -D "$work/pg/data" -A trust -U postgres -E UTF8 --no-sync >/dev/null
  run_pg "$PGB/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w \
    -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=256MB" start >/dev/null
  BENCH_PG="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
fi
base=${BENCH_PG%%\?*}; base=${base%/*}; q=""; [[ "$BENCH_PG" == *\?* ]] && q="?${BENCH_PG#*\?}"

# The Apogée class: table and the order its rows are read in (same as demo.ApogeeClass).
tables=(
  'INDIVIDU|"COD_IND"'
  'ADRESSE|"COD_IND", "COD_ADR"'
  'INS_ADM_ANU|"COD_IND", "COD_ANU"'
  'INS_ADM_ETP|"COD_IND", "COD_ANU", "COD_ETP", "COD_VRS_VET", "NUM_OCC_IAE"'
  'RESULTAT_VET|"COD_IND", "COD_ANU", "COD_ETP", "COD_VRS_VET", "COD_SES", "COD_ADM"'
  'RESULTAT_VDI|"COD_IND", "COD_ANU", "COD_DIP", "COD_VRS_VDI", "COD_SES", "COD_ADM"'
  'RESULTAT_ELP|"COD_IND", "COD_ANU", "COD_ELP", "COD_SES", "COD_ADM"'
  'IND_BAC|"COD_IND", "COD_BAC"'
  'PHO_ETU|"COD_IND"'
  'THESE_HDR_SOUT|"COD_IND", "COD_THS"'
)
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

printf '%-9s %-16s %10s %8s %12s %9s %9s %12s\n' size tool seconds 'doss/s' 'MB' 'MB/s' 'ratio' 'peak RSS MB'
for n in "${sizes[@]}"; do
  db="bench_$n"
  "$PGB/psql" -X -q "$BENCH_PG" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
  export BENCH_DSN="$base/$db$q"
  "$work/versement" --log-level warn demo-db --profile apogee --dossiers "$n" --dsn env:BENCH_DSN >/dev/null
  "$work/versement" --log-level warn demo-db --profile apogee --dossiers "$n" --out "$work/apogee-$n.db" >/dev/null

  : >"$work/copy.sql"
  for t in "${tables[@]}"; do
    printf '\\copy (SELECT * FROM "%s" ORDER BY %s) TO STDOUT\n' "${t%%|*}" "${t#*|}" >>"$work/copy.sql"
  done
  # The best of $REPS runs of each, interleaved, so that a busy machine hurts both alike.
  pg="" lite="" psql_s=""
  for rep in $(seq "${REPS:-3}"); do
    l=$("$work/extract-bench" -source env:BENCH_DSN -profile apogee)
    if [ -z "$pg" ] || (( $(echo "$(field seconds "$l") < $(field seconds "$pg")" | bc -l) )); then pg=$l; fi
    l=$("$work/extract-bench" -source "sqlite:$work/apogee-$n.db" -profile apogee)
    if [ -z "$lite" ] || (( $(echo "$(field seconds "$l") < $(field seconds "$lite")" | bc -l) )); then lite=$l; fi
    t0=$(date +%s.%N)
    bytes=$("$PGB/psql" -X -q "$BENCH_DSN" -f "$work/copy.sql" | wc -c)
    t1=$(date +%s.%N)
    s=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$psql_s" ] || (( $(echo "$s < $psql_s" | bc -l) )); then psql_s=$s; fi
  done

  for tool in versement-pg versement-sqlite; do
    line=$pg; [ "$tool" = versement-sqlite ] && line=$lite
    s=$(field seconds "$line"); mb=$(echo "($(field json_bytes "$line") + $(field lob_bytes "$line"))/1000000" | bc -l)
    ratio=$(echo "$psql_s / $s" | bc -l)
    printf '%-9s %-16s %10.2f %8.0f %12.1f %9.1f %9.2f %12.1f\n' "$n" "$tool" "$s" "$(field dossiers_per_s "$line")" "$mb" \
      "$(field mb_per_s "$line")" "$ratio" "$(echo "$(field peak_rss_kb "$line")/1024" | bc -l)"
  done
  printf '%-9s %-16s %10.2f %8.0f %12.1f %9.1f %9s %12s\n' "$n" "psql-copy" "$psql_s" "$(echo "$n / $psql_s" | bc -l)" \
    "$(echo "$bytes/1000000" | bc -l)" "$(echo "$bytes/1000000/$psql_s" | bc -l)" "1.00" "-"
  "$PGB/psql" -X -q "$BENCH_PG" -c "DROP DATABASE $db" >/dev/null
  rm -f "$work/apogee-$n.db"*
done
echo "ratio = psql time / versement time for the same tables (aim ≥ 0.5)."
