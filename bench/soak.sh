#!/usr/bin/env bash
# Soak `versement schedule` as an operator would before leaving it unattended for months: fast
# jobs, faults, reloads, for a bounded time, watching memory, descriptors, goroutines and run
# counts; then SIGTERM mid-run, a rerun of every job and a ledger check.
#
#   bench/soak.sh [MINUTES]          # default 20
#   EVERY=30 CYCLE=120 PORT=19464 KEEP=1 BIN=./versement bench/soak.sh 5
#
# Everything is local: SQLite demo bases (`versement demo-db`), dir:// targets, /metrics and
# /healthz on 127.0.0.1. Tools: bash, go build, curl, /proc. As root the scheduler runs as nobody
# (setpriv), since root ignores the read-only mode the target fault relies on.
#
# Jobs (a CYCLE-second fault plan repeats until the end):
#   normal   300 dossiers, @every 2s, no fault
#   slow     SLOW_DOSSIERS dossiers, @every 1s: every run outlasts its interval (skipped ticks)
#   flaky    @every 3s; its base goes missing at +20 s, comes back garbled at +40 s (random bytes in
#            odd cycles, a truncated copy in even ones) and is restored at +60 s
#   rotarget @every 3s; at +70 s its target folder turns read-only and its source moves to a new
#            base (new dossiers, so that runs must write); writable again at +100 s
#   extra    @every 4s, present in every other good jobs file: added and removed by reloads
# SIGHUP at +30 s with a good jobs file (alternately with and without extra), and at +90 s with a
# bad one (unclosed quote, unknown field, bad cron spec in turn), which must be refused.
#
# Every EVERY seconds a row: elapsed seconds, RSS MiB and open descriptors (/proc), goroutines
# (go_goroutines), /healthz status, and per job ok/failed/skipped runs (runs_total).
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-20}
EVERY=${EVERY:-30}
CYCLE=${CYCLE:-120}
PORT=${PORT:-$((20000 + RANDOM % 20000))}
SLOW_DOSSIERS=${SLOW_DOSSIERS:-8000}
work=$(mktemp -d "${TMPDIR:-/tmp}/versement-soak.XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  chmod -R u+w "$work" 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The committed tree (others may be editing the working tree), or BIN=path/to/versement.
v="$work/versement"
if [ -n "${BIN:-}" ]; then cp "$BIN" "$v"; else
  mkdir "$work/src"
  git archive HEAD | tar -x -C "$work/src"
  (cd "$work/src" && go build -o "$v" ./cmd/versement)
  echo "built: $(git rev-parse --short HEAD), $(go version | cut -d' ' -f3)"
  rm -rf "$work/src"
fi
chmod 755 "$work"
asuser=()
if [ "$(id -u)" = 0 ]; then asuser=(setpriv --reuid=65534 --regid=65534 --clear-groups); fi
run() { "${asuser[@]}" "$@"; }

cd "$work"
mkdir -p bases targets/{normal,slow,flaky,rotarget,extra} state
"$v" demo-db --profile apogee --dossiers 300 --seed 1 --out bases/normal.db >/dev/null
"$v" demo-db --profile apogee --dossiers "$SLOW_DOSSIERS" --seed 2 --out bases/slow.db >/dev/null 2>&1
"$v" demo-db --profile apogee --dossiers 300 --seed 3 --out bases/flaky.db >/dev/null
"$v" demo-db --profile apogee --dossiers 300 --seed 4 --out bases/extra.db >/dev/null
cycles=$(((MINUTES * 60 + CYCLE - 1) / CYCLE))
for c in $(seq 0 "$cycles"); do # one new base per read-only fault
  "$v" demo-db --profile apogee --dossiers 300 --seed $((100 + c)) --out "bases/rot$c.db" >/dev/null
done
cp bases/flaky.db flaky.good
for j in normal slow flaky extra; do echo "sqlite:$work/bases/$j.db" >"$j.dsn"; done
echo "sqlite:$work/bases/rot0.db" >rotarget.dsn

job() { # name spec
  cat <<EOF
  - name: $1
    cron: "$2"
    profile: apogee
    source: {file: $1.dsn}
    targets: {intermediate: "dir://$work/targets/$1", final: "dir://$work/targets/$1"}
    as_of: today
EOF
}
good() { # with_extra
  echo "timezone: UTC"
  echo "jobs:"
  job normal "@every 2s"
  job slow "@every 1s"
  job flaky "@every 3s"
  job rotarget "@every 3s"
  if [ "$1" = 1 ]; then job extra "@every 4s"; fi
}
bad() { # variant
  good 0 >bad.yaml
  case $(($1 % 3)) in
  0) sed -i 's|cron: "@every 2s"|cron: "@every 2s|' bad.yaml ;;               # unclosed quote
  1) sed -i '0,/as_of: today/s//as_of: today\n    colour: blue/' bad.yaml ;; # unknown field
  2) sed -i 's|"@every 1s"|"61 * * * *"|' bad.yaml ;;                       # bad cron spec
  esac
  cp bad.yaml jobs.yaml
}
good 0 >jobs.yaml
chown -R 65534:65534 "$work" 2>/dev/null || true

metric() { curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" || true; }
health() { curl -s --max-time 5 "http://127.0.0.1:$PORT/healthz" | grep -m1 -o '"status": *"[a-z]*"' | grep -o '[a-z]*"$' | tr -d '"' || true; }
runs() { # metrics job outcome
  awk -v k="versement_schedule_runs_total{job=\"$2\",outcome=\"$3\"}" '$1 == k {print $2}' <<<"$1"
}
jobs_all=(normal slow flaky rotarget extra)
row() { # elapsed
  local m rss fds g line j
  m=$(metric)
  rss=$(awk '/^VmRSS/{printf "%.1f", $2/1024}' "/proc/$pid/status" 2>/dev/null || echo -)
  fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  g=$(awk '/^go_goroutines /{print $2}' <<<"$m")
  line=$(printf '%5s %7s %4s %4s %-8s' "$1" "$rss" "$fds" "${g:--}" "$(health)")
  for j in "${jobs_all[@]}"; do
    local ok fa sk
    ok=$(runs "$m" "$j" ok)
    fa=$(runs "$m" "$j" failed)
    sk=$(runs "$m" "$j" skipped)
    if [ -z "$ok" ]; then line+=$(printf ' %13s' -); else line+=$(printf ' %13s' "$ok/$fa/$sk"); fi
  done
  echo "$line"
  echo "$line" >>rows.txt
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "soak: $MINUTES min, fault cycle $CYCLE s, row every $EVERY s, slow job $SLOW_DOSSIERS dossiers, listen 127.0.0.1:$PORT, as $(run id -un)"
"${asuser[@]}" "$v" schedule --jobs jobs.yaml --state-dir state --listen "127.0.0.1:$PORT" 2>sched.log & # exec: $! is the scheduler
pid=$!
for _ in $(seq 50); do curl -s --max-time 1 "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
printf '%5s %7s %4s %4s %-8s' t rss_MiB fds gor health
for j in "${jobs_all[@]}"; do printf ' %13s' "$j"; done
echo "   (runs ok/failed/skipped)"

offsets=(20 30 40 60 70 90 100)
fault() { # offset cycle
  case $1 in
  20) mv bases/flaky.db bases/flaky.gone ;;
  30) extra=$((1 - extra)); good $extra >jobs.yaml; kill -HUP "$pid" ;;
  40) rm -f bases/flaky.gone
      if [ $(($2 % 2)) = 0 ]; then head -c 65536 /dev/urandom >bases/flaky.db; else head -c 40960 flaky.good >bases/flaky.db; fi
      chown 65534:65534 bases/flaky.db 2>/dev/null || true ;;
  60) cp flaky.good bases/flaky.db; chown 65534:65534 bases/flaky.db 2>/dev/null || true ;;
  70) echo "sqlite:$work/bases/rot$(($2 + 1)).db" >rotarget.dsn; chmod 555 targets/rotarget ;;
  90) bad "$2"; kill -HUP "$pid" ;;
  100) chmod 755 targets/rotarget ;;
  esac
}
cycle=-1
step=0
start=$(date +%s)
end=$((start + MINUTES * 60))
last_row=-1
extra=0
while :; do
  now=$(date +%s)
  [ "$now" -ge "$end" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "scheduler died"; tail -20 sched.log; exit 1; }
  t=$((now - start))
  c=$((t / CYCLE))
  p=$((t % CYCLE))
  # Each step fires once per cycle, even if a slow second made the loop miss its exact offset.
  if [ "$c" != "$cycle" ]; then cycle=$c; step=0; fi
  while [ "$step" -lt ${#offsets[@]} ] && [ "$p" -ge "${offsets[$step]}" ]; do
    fault "${offsets[$step]}" "$c"
    step=$((step + 1))
  done
  if [ $((t / EVERY)) != "$last_row" ]; then last_row=$((t / EVERY)); row "$t"; fi
  # one step per second, on the second
  sleep "$(awk -v n="$(date +%s.%N)" 'BEGIN{printf "%.3f", 1 - (n - int(n))}')"
done

row "$(($(date +%s) - start))"
m=$(metric)
echo "reloads (SIGHUP): $(awk '/^versement_schedule_config_reloads_total/{printf "%s %s  ", $1, $2}' <<<"$m")"
echo "peak RSS (VmHWM): $(awk '/^VmHWM/{printf "%.1f MiB", $2/1024}' "/proc/$pid/status"); CPU: $(awk '{printf "%.0f s user, %.0f s system", $14/100, $15/100}' "/proc/$pid/stat")"
# Stop mid-run: wait (at most 10 s) until the slow job is running, then SIGTERM.
for _ in $(seq 100); do metric | grep -q '^versement_schedule_running{job="slow"} 1' && break; sleep 0.1; done
s=$(date +%s%N)
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
echo "SIGTERM: exit $rc after $((($(date +%s%N) - s) / 1000000)) ms; $(grep -c '"outcome":"interrupted"' sched.log) run(s) recorded as interrupted"
pid=""
chmod 755 targets/rotarget
cp flaky.good bases/flaky.db
good 1 >jobs.yaml # the rerun runs every job, extra included
chown -R 65534:65534 bases jobs.yaml 2>/dev/null || true

echo
echo "log summary (sched.log, $(wc -l <sched.log) lines):"
grep -o '"level":"[A-Z]*","msg":"[^"]*"' sched.log | sed 's/"level":"\([A-Z]*\)","msg":"\([^"]*\)"/\1 \2/' |
  sort | uniq -c | sort -rn | grep -v ' INFO \(class done\|run started\|run finished\|SIP sent\)$' || true
echo "refused reloads:"
grep '"jobs file not reloaded' sched.log | grep -oE '"err":"([^"\\]|\\.)*"' | sort | uniq -c || true
echo "failed runs' reasons, per job (WORK: the work folder; SIP names shortened):"
grep '"msg":"run failed"' sched.log | sed "s|$work|WORK|g; s/-[0-9a-f]\{16\}\.zip/-….zip/g" |
  sed 's/.*"job":"\([^"]*\)".*"err":"\(.\{0,150\}\).*/\1: \2/' | sort | uniq -c | sort -rn | head -20 || true
echo "floors and ceilings (rows are samples, often taken mid-run; a leak raises the floors):"
awk -v n="$(wc -l <rows.txt)" '{h = NR <= n / 2 ? "first half " : "second half"; k = h
  if (!(k in r0) || $2 < r0[k]) r0[k] = $2; if ($2 > r1[k]) r1[k] = $2
  if (!(k in f0) || $3 < f0[k]) f0[k] = $3; if ($3 > f1[k]) f1[k] = $3
  if (!(k in g0) || $4 < g0[k]) g0[k] = $4; if ($4 > g1[k]) g1[k] = $4}
  END {for (k in r0) printf "  %s: RSS %s-%s MiB, descriptors %s-%s, goroutines %s-%s\n", k, r0[k], r1[k], f0[k], f1[k], g0[k], g1[k]}' rows.txt | sort

echo
echo "rerun (--once each job), then ledger and target check:"
for j in normal slow flaky rotarget extra; do
  rc=0
  run "$v" schedule --jobs jobs.yaml --state-dir state --once "$j" 2>"once-$j.log" || rc=$?
  sips=$(find "targets/$j" -name '*.zip' | wc -l)
  vrc=0
  out=$("$v" verify --ledger "state/jobs/$j/ledger.jsonl" --target "dir://$work/targets/$j" 2>&1 | tail -1) || vrc=$?
  echo "  $j: --once exit $rc ($(grep -o '"msg":"run finished".*"outcome":"[a-z]*"' "once-$j.log" | grep -o '"outcome":"[a-z]*"' | tail -1)), $sips SIPs in the target, ledger $(wc -l <"state/jobs/$j/ledger.jsonl") entries; verify --ledger --target exit $vrc: $out"
done
