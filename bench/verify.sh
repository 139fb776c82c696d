#!/usr/bin/env bash
# Verify throughput against openssl and sha256sum over the same payload, verify of a run's own
# deflated SIPs against a BagIt-style check, and the writer's throughput and peak memory.
#
#   bench/verify.sh                                  # ~1 GiB SIPs (what docs/seda.md reports)
#   SIZE_MB=256 FILES=256 RUNS=3 bench/verify.sh     # smaller, for a busy machine
#   CACHE=warm bench/verify.sh                       # page cache warm (default: cold when root)
#   SIPS=/tmp/vbench/archives bench/verify.sh        # the deflated case on these SIPs
#
# Case one/many: two SIPs of SIZE_MB, one object and FILES objects, random bytes (stored, like
# photos), also written as plain files so that openssl and sha256sum hash exactly the bytes that
# `versement verify` hashes (it also parses the manifest and checks the layout). In the many-file
# case openssl and sha256sum run on both cores (xargs -P2, half the files each), as verify does.
# Case deflated: the SIPs a `versement run` wrote (SIPS, or made here from a demo Apogée base of
# SIP_DOSSIERS students): `versement verify` of them all against, per SIP on two cores, unzip to a
# temporary folder and `sha256sum -c` of a list made beforehand (what a BagIt check does).
#
# The payload is synced after it is written. CACHE=cold (the default when
# /proc/sys/vm/drop_caches is writable) syncs and drops the page cache before every timed
# command, so every run reads from the disk; CACHE=warm reads everything once beforehand and
# every run reads from memory. The commands alternate run by run (versement first in odd runs,
# last in even ones); each run prints its times and ratios, then min and median of the ratios.
# Ratios > 1 mean versement is faster. Tools: bash, go, GNU time, openssl, sha256sum, unzip, awk.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-1024}
FILES=${FILES:-4096}
RUNS=${RUNS:-3}
SIP_DOSSIERS=${SIP_DOSSIERS:-10000}
if [ -z "${CACHE:-}" ]; then
  if [ -w /proc/sys/vm/drop_caches ]; then CACHE=cold; else CACHE=warm; fi
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/versement-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

go build -o "$work/versement" ./cmd/versement
go build -o "$work/mksip" ./bench/mksip
v="$work/versement"

median() { sort -g | awk '{a[NR]=$1} END{if (NR%2) printf "%.2f", a[(NR+1)/2]; else printf "%.2f", (a[NR/2]+a[NR/2+1])/2}'; }
minimum() { sort -g | head -1 | awk '{printf "%.2f", $1}'; }
col() { cut -d' ' -f"$1" "$work/rows"; }
prep() { # before each timed command
  rm -rf "$work/bag"; sync
  if [ "$CACHE" = cold ]; then echo 3 >/proc/sys/vm/drop_caches; fi
}
timed() { # CMD...: prints "wall cpu rss_kb" of CMD, its output discarded
  prep
  if ! /usr/bin/time -f '%e %U %S %M' -o "$work/t" "$@" >/dev/null 2>"$work/err"; then
    echo "failed: $*" >&2; cat "$work/err" "$work/t" >&2; return 1
  fi
  tail -1 "$work/t" | awk '{printf "%.3f %.2f %d\n", $1, $2+$3, $4}'
}
warm() { [ "$CACHE" = warm ] && find "$@" -type f -exec cat {} + >/dev/null || true; }

# compare NAME VERIFY_CMD -- REF1_NAME REF1_CMD -- REF2_NAME REF2_CMD: RUNS alternating runs
compare() {
  local name=$1; shift
  local -a va=() r1=() r2=(); local n1 n2
  while [ "$1" != -- ]; do va+=("$1"); shift; done; shift
  n1=$1; shift
  while [ "$1" != -- ]; do r1+=("$1"); shift; done; shift
  n2=$1; shift; r2=("$@")
  : >"$work/rows"
  printf '%-8s %4s %9s %9s %9s %7s %7s %7s %7s %7s\n' "$name" run verify_s "${n1}_s" "${n2}_s" "$n1/v" "$n2/v" cpu_v "cpu_$n1" rss_v_MB
  local i a b c
  for i in $(seq "$RUNS"); do
    if [ $((i % 2)) = 1 ]; then
      a=$(timed "${va[@]}"); b=$(timed "${r1[@]}"); c=$(timed "${r2[@]}")
    else
      c=$(timed "${r2[@]}"); b=$(timed "${r1[@]}"); a=$(timed "${va[@]}")
    fi
    set -- $a $b $c
    echo "$1 $4 $7 $(awk -v v="$1" -v x="$4" 'BEGIN{printf "%.2f", x/v}') $(awk -v v="$1" -v x="$7" 'BEGIN{printf "%.2f", x/v}') $2 $5 $8 $3 $6" >>"$work/rows"
    printf '%-8s %4d %9.2f %9.2f %9.2f %7s %7s %7.2f %7.2f %7.1f\n' "$name" "$i" "$1" "$4" "$7" \
      "$(tail -1 "$work/rows" | cut -d' ' -f4)" "$(tail -1 "$work/rows" | cut -d' ' -f5)" "$2" "$5" \
      "$(awk -v k="$3" 'BEGIN{print k/1000}')"
  done
  echo "$name: verify vs $n1 min $(col 4 | minimum) median $(col 4 | median); vs $n2 min $(col 5 | minimum) median $(col 5 | median)"
  echo "$name: median seconds verify $(col 1 | median), $n1 $(col 2 | median), $n2 $(col 3 | median); CPU s verify $(col 6 | median), $n1 $(col 7 | median), $n2 $(col 8 | median)"
  echo "$name: verify peak RSS $(col 9 | sort -g | tail -1) KiB"
  cp "$work/rows" "$work/rows-$name"
}
rates() { # name MiB: GB/s at the median time of each tool
  local r="$work/rows-$1"
  echo "$1: GB/s at the median: verify $(cut -d' ' -f1 "$r" | median | awk -v m="$2" '{printf "%.2f", m*1048576/$1/1e9}'), $(cut -d' ' -f2 "$r" | median | awk -v m="$2" '{printf "%.2f", m*1048576/$1/1e9}') and $(cut -d' ' -f3 "$r" | median | awk -v m="$2" '{printf "%.2f", m*1048576/$1/1e9}') for the other two"
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), SHA-NI: $(grep -o -m1 sha_ni /proc/cpuinfo || echo no), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "payload: $SIZE_MB MiB; many-file case: $FILES files; $RUNS runs alternating; page cache: $CACHE$([ "$CACHE" = cold ] && echo ' (sync and drop_caches before each timed command)' || echo ' (synced, then read once before the runs)')"
for shape in one many; do
  n=1; [ "$shape" = many ] && n=$FILES
  size=$((SIZE_MB * 1048576 / n))
  half=$(((n + 1) / 2))
  mkdir -p "$work/$shape"
  "$work/mksip" -out "$work/$shape.zip" -payload "$work/$shape" -files "$n" -size "$size" >/dev/null
  sync; warm "$work/$shape" "$work/$shape.zip"
  echo
  compare "$shape" "$v" --log-format text verify "$work/$shape.zip" \
    -- openssl sh -c "cd '$work/$shape' && ls | xargs -P2 -n $half openssl dgst -sha256" \
    -- sha256sum sh -c "cd '$work/$shape' && ls | xargs -P2 -n $half sha256sum"
  rates "$shape" "$SIZE_MB"
  rm -rf "$work/$shape" "$work/$shape.zip"
done

# deflated: a run's own SIPs against unzip + sha256sum -c (BagIt-style), per SIP on two cores
echo
if [ -z "${SIPS:-}" ]; then
  SIPS="$work/sips"
  "$v" demo-db --profile apogee --dossiers "$SIP_DOSSIERS" --out "$work/demo.db" >/dev/null 2>&1
  "$v" --log-level error run --profile apogee --source "$work/demo.db" --as-of 2026-11-30 \
    --target "dir://$SIPS" --state "$work/state" >/dev/null
fi
mkdir -p "$work/sums" "$work/bag"
for z in "$SIPS"/*.zip; do # the lists sha256sum -c checks, made once, not timed
  b=$(basename "$z" .zip)
  mkdir -p "$work/bag/$b" && unzip -q "$z" -d "$work/bag/$b"
  (cd "$work/bag/$b" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$work/sums/$b"
done
echo "deflated: $(ls "$SIPS"/*.zip | wc -l) SIPs, $(du -sh "$SIPS" | cut -f1) zipped, $(du -sh "$work/bag" | cut -f1) unzipped, $(cat "$work/sums"/* | wc -l) files"
rm -rf "$work/bag"
cat >"$work/bag.sh" <<'EOF'
# bag.sh SUMS_DIR BAG_DIR ZIP...: unzip each SIP and check its files against its list
s=$1; d=$2; shift 2
for z in "$@"; do
  b=$(basename "$z" .zip)
  mkdir -p "$d/$b"
  unzip -q "$z" -d "$d/$b" && (cd "$d/$b" && sha256sum -c --quiet "$s/$b") || exit 1
done
EOF
nz=$(ls "$SIPS"/*.zip | wc -l)
sips=("$SIPS"/*.zip)
warm "$SIPS"
compare deflated "$v" --log-format text verify "${sips[@]}" \
  -- bagit sh -c "ls '$SIPS'/*.zip | xargs -P2 -n $(((nz + 1) / 2)) sh '$work/bag.sh' '$work/sums' '$work/bag'" \
  -- bagit1 sh -c "sh '$work/bag.sh' '$work/sums' '$work/bag' '$SIPS'/*.zip"
rm -rf "$work/bag"
echo "(bagit: unzip + sha256sum -c on two cores, per SIP; bagit1: the same on one core; it writes the unzipped files, verify reads the zips only)"

echo
echo "writer (mksip through seda.Writer; peak RSS from /usr/bin/time):"
for kind in random json; do
  n=$FILES; size=$((SIZE_MB * 1048576 / n))
  out=$( { /usr/bin/time -f 'rss_kb=%M' "$work/mksip" -out "$work/w.zip" -files "$n" -size "$size" -kind "$kind"; } 2>&1 )
  echo "  $kind ($([ $kind = random ] && echo stored || echo deflated)): $(echo "$out" | grep wrote | sed 's/.*objects, //'), $(echo "$out" | grep -o 'rss_kb=[0-9]*')"
  rm -f "$work/w.zip"
done
echo "load at end $(cut -d' ' -f1-3 /proc/loadavg)"
