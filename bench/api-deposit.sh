#!/usr/bin/env bash
# Deposit API throughput: the same dossiers archived by an application through `versement serve
# --api` (docs/api.md) and by `versement run` straight from the base.
#
#   bench/api-deposit.sh 10000 [RUNS]            # RUNS defaults to 3
#   QUEUE=1 bench/api-deposit.sh 10000 3         # closes through a SQLite queue and one `versement worker`
#   PER_TX=1000 PARALLEL=2 bench/api-deposit.sh  # bench/deposit's --per-tx and --parallel
#   WORK=/tmp/vbench-api bench/api-deposit.sh …  # keep (and reuse) the demo base and certificates in WORK
#
# Makes a demo Apogée base of N students, a CA, a server certificate (127.0.0.1) and a client
# certificate (CN bench-app) with openssl, then alternates, RUNS times, on fresh folders each time:
#   (a) a platform file with one establishment `bench` (its state_root and dir:// targets in a new
#       run folder, `api_clients: - certificate: {subject_cn: bench-app}`), `versement serve --api
#       --platform P --cert --key --addr 127.0.0.1:PORT` with VERSEMENT_API_CLIENT_CA_FILE (closes
#       processed by serve itself; QUEUE=1: `--queue sqlite:…` and one `versement worker`), then
#       bench/deposit over all N dossiers (--per-tx, --parallel), timed with sync; serve's CPU is
#       read from /proc before and after, its peak RSS from VmHWM;
#   (b) versement run --profile apogee --source DB --as-of 2026-11-30 --target dir://OUT
#       --state STATE; sync.
# Odd runs start with (a), even runs with (b). Ratio = run wall / deposit wall: 1 means the API is
# as fast as the CLI, the aim is ≥ 0.5 (the deposit within 2× of the run). The deposit's as-of date
# is the day it is processed, the run's 2026-11-30: the tiers may differ by the dossiers whose
# retention ends between the two. Tools: bash, go, openssl, GNU time, awk, /proc.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
runs=${2:-3}
per_tx=${PER_TX:-1000}
parallel=${PARALLEL:-2}
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
go build -o "$work/versement" ./cmd/versement
go build -o "$work/deposit" ./bench/deposit
v="$work/versement"

median() { sort -g | awk '{a[NR]=$1} END{if (NR%2) printf "%.2f", a[(NR+1)/2]; else printf "%.2f", (a[NR/2]+a[NR/2+1])/2}'; }
minimum() { sort -g | head -1 | awk '{printf "%.2f", $1}'; }
maximum() { sort -g | tail -1; }

# timed CMD...: runs CMD under GNU time; prints "wall cpu rss_kb"
timed() {
  local tf="$work/time.out"
  if ! /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@"; then
    echo "failed: $*" >&2; cat "$tf" >&2; return 1
  fi
  tail -1 "$tf" | awk '{printf "%.2f %.2f %d\n", $1, $2+$3, $4}'
}
# cpu_of PID: user+system CPU seconds of a live process
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15)/hz}' "/proc/$1/stat"; }
hwm_of() { awk '$1 == "VmHWM:" {print $2}' "/proc/$1/status"; }

# certificates: a CA, the server's (IP 127.0.0.1), the application's (CN bench-app)
pki="$work/pki"
if [ ! -f "$pki/client.pem" ]; then
  mkdir -p "$pki"
  (
    cd "$pki"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=bench-ca \
      -keyout ca-key.pem -out ca.pem 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=versement \
      -keyout server-key.pem -out server.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 30 \
      -extfile server.ext -out server.pem 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=bench-app \
      -keyout client-key.pem -out client.csr 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 30 \
      -extfile client.ext -out client.pem 2>/dev/null
  )
fi

db="$work/apogee-$n.db"
[ -f "$db" ] || "$v" demo-db --profile apogee --dossiers "$n" --out "$db" 2>/dev/null
sync
port=$(( 20000 + RANDOM % 20000 ))
api="https://127.0.0.1:$port/api/v1"

srv_pid="" wrk_pid=""
stop() {
  local p
  for p in $wrk_pid $srv_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  srv_pid="" wrk_pid=""
}
trap stop EXIT

# deposit_run DIR: serve on a fresh platform in DIR, the client over all dossiers; prints
# "wall client_cpu serve_cpu serve_rss_kb" and leaves the client's line in DIR/deposit.out
deposit_run() {
  local d=$1 plat=$1/platform.yaml q=()
  mkdir -p "$d"
  cat >"$plat" <<EOF
state_root: $d/state
timezone: Europe/Paris
establishments:
  - id: bench
    name: Université Bench
    seda:
      originating_agency: BENCH-SCOL
      archival_agreement: IC-BENCH-000001
    profiles:
      - profile: apogee
    targets:
      intermediate: dir://$d/archives/intermediate
      final: dir://$d/archives/final
    api_clients:
      - certificate: {subject_cn: bench-app}
EOF
  [ -n "${QUEUE:-}" ] && q=(--queue "sqlite:$d/queue.db")
  VERSEMENT_API_CLIENT_CA_FILE="$pki/ca.pem" "$v" --log-level warn serve --api --platform "$plat" \
    --cert "$pki/server.pem" --key "$pki/server-key.pem" --addr "127.0.0.1:$port" "${q[@]}" \
    >"$d/serve.log" 2>&1 &
  srv_pid=$!
  if [ -n "${QUEUE:-}" ]; then
    "$v" --log-level warn worker --platform "$plat" "${q[@]}" --listen "" --state-dir "$d/state" \
      >"$d/worker.log" 2>&1 &
    wrk_pid=$!
  fi
  local i
  for i in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$srv_pid" 2>/dev/null || { cat "$d/serve.log" >&2; return 1; }
    sleep 0.1
  done
  local c0 w0=0 out
  c0=$(cpu_of "$srv_pid"); [ -n "$wrk_pid" ] && w0=$(cpu_of "$wrk_pid")
  out=$(timed bash -c '"$0" --source "$1" --api "$2" --establishment bench --cert "$3/client.pem" \
      --key "$3/client-key.pem" --ca "$3/ca.pem" --per-tx "$4" --parallel "$5" >"$6" && sync' \
      "$work/deposit" "$db" "$api" "$pki" "$per_tx" "$parallel" "$d/deposit.out") ||
    { cat "$d/serve.log" >&2; return 1; }
  local c1 w1=0 rss
  c1=$(cpu_of "$srv_pid"); [ -n "$wrk_pid" ] && w1=$(cpu_of "$wrk_pid")
  rss=$(hwm_of "$srv_pid")
  stop
  read -r wall ccpu _ <<<"$out"
  awk -v w="$wall" -v c="$ccpu" -v s="$c0" -v e="$c1" -v ws="$w0" -v we="$w1" -v r="$rss" \
    'BEGIN{printf "%.2f %.2f %.2f %d\n", w, c, (e-s)+(we-ws), r}'
}
run_versement() { # db out state
  "$v" --log-level warn run --profile apogee --source "$1" --as-of 2026-11-30 \
    --target "dir://$2" --state "$3" >"$4" 2>&1 && sync
}
export -f run_versement
export v

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "HEAD $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench' || echo ' + uncommitted changes outside bench/')"
echo "N=$n: $(du -h "$db" | cut -f1) base, $runs runs alternating (a) deposit through serve --api${QUEUE:+ + worker (queue)} (per-tx $per_tx, parallel $parallel), (b) versement run"
printf '%4s %8s %8s %7s %9s %9s %7s %10s %9s\n' run wall_dep wall_run 'run/dep' cpu_cli cpu_serve cpu_run rss_srv_MB rss_run_MB
: >"$work/rows"
for i in $(seq "$runs"); do
  r="$work/run-$i"
  rm -rf "$r"; mkdir -p "$r"; sync
  if [ $((i % 2)) = 0 ]; then outb=$(timed bash -c 'run_versement "$0" "$1" "$2" "$3"' "$db" "$r/cli-archives" "$r/cli-state" "$r/run.out"); sync; fi
  outa=$(deposit_run "$r/api")
  if [ $((i % 2)) = 1 ]; then sync; outb=$(timed bash -c 'run_versement "$0" "$1" "$2" "$3"' "$db" "$r/cli-archives" "$r/cli-state" "$r/run.out"); fi
  read -r wa cca csa rsa <<<"$outa"
  read -r wb cb rb <<<"$outb"
  ratio=$(awk -v a="$wa" -v b="$wb" 'BEGIN{printf "%.2f", b/a}')
  echo "$wa $wb $ratio $cca $csa $cb $rsa $rb" >>"$work/rows"
  printf '%4d %8.2f %8.2f %7.2f %9.2f %9.2f %7.2f %10.1f %9.1f\n' "$i" "$wa" "$wb" "$ratio" "$cca" "$csa" "$cb" \
    "$(awk -v k="$rsa" 'BEGIN{print k/1000}')" "$(awk -v k="$rb" 'BEGIN{print k/1000}')"
  echo "     client: $(cat "$r/api/deposit.out")"
  echo "     deposit SIPs: $(find "$r/api/archives" -name '*.zip' | wc -l) ($(du -sh "$r/api/archives" | cut -f1)); run SIPs: $(find "$r/cli-archives" -name '*.zip' | wc -l) ($(du -sh "$r/cli-archives" | cut -f1))"
  [ -n "${KEEP:-}" ] || rm -rf "$r"
done
col() { cut -d' ' -f"$1" "$work/rows"; }
echo "ratio run/deposit (aim ≥ 0.5): min $(col 3 | minimum), median $(col 3 | median)"
echo "deposit: $(awk -v n="$n" -v t="$(col 1 | median)" 'BEGIN{printf "%.0f", n/t}') dossiers/s at the median wall ($(col 1 | median) s); run: $(awk -v n="$n" -v t="$(col 2 | median)" 'BEGIN{printf "%.0f", n/t}') dossiers/s ($(col 2 | median) s)"
echo "CPU median: deposit client $(col 4 | median) s + serve$([ -n "${QUEUE:-}" ] && echo '+worker') $(col 5 | median) s; run $(col 6 | median) s"
echo "peak RSS: serve $(awk -v k="$(col 7 | maximum)" 'BEGIN{printf "%.1f", k/1000}') MB (highest of $runs runs), run $(awk -v k="$(col 8 | maximum)" 'BEGIN{printf "%.1f", k/1000}') MB"
echo "load at end $(cut -d' ' -f1-3 /proc/loadavg)"
