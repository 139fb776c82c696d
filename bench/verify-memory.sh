#!/usr/bin/env bash
# Peak RSS of `versement verify` against the size of the manifest (issue 11: under 256 MB at the
# 256 MiB manifest limit). For each size in MiB, bench/mksip writes a SIP of as many 16-byte JSON
# objects (one unit each, a SIP of many tiny dossiers) as fit in a manifest of that size, so that
# the manifest, not the payload, grows; `versement verify` runs under /usr/bin/time. Prints
# manifest bytes, objects, peak RSS, wall and user CPU time per size.
#
#   bench/verify-memory.sh [MiB...]          # default: 16 64 256
#   OLD=<commit> bench/verify-memory.sh      # also the versement of that commit, for a before/after
#   SHAPE=terse bench/verify-memory.sh       # bench/mkterse.py's manifest: ~535 bytes an object
#                                            # (mksip's: ~740), so more objects per MiB
#
# Needs go, unzip, GNU time (/usr/bin/time); git and tar with OLD; python3 with SHAPE=terse.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/versement-verifymem.XXXXXX)
trap 'rm -rf "$work"' EXIT
go build -o "$work/versement" ./cmd/versement
go build -o "$work/mksip" ./bench/mksip
bins=(versement)
if [ -n "${OLD:-}" ]; then
  mkdir "$work/old"
  git archive "$OLD" | tar -x -C "$work/old"
  (cd "$work/old" && go build -o "$work/versement-old" ./cmd/versement)
  bins=(versement-old versement)
fi
[ $# -gt 0 ] || set -- 16 64 256

manifest_bytes() { unzip -l "$1" manifest.xml | awk '/manifest.xml/ {print $1}'; }
mk() { # mk OUT N
  if [ "${SHAPE:-mksip}" = terse ]; then python3 bench/mkterse.py "$1" "$2"; else "$work/mksip" -out "$1" -files "$2" -size 16 -kind json >/dev/null; fi
}
# Two small SIPs give the bytes per object and the fixed part.
mk "$work/a.zip" 1000
mk "$work/b.zip" 2000
m1=$(manifest_bytes "$work/a.zip")
m2=$(manifest_bytes "$work/b.zip")
per=$(((m2 - m1) / 1000))
fixed=$((m1 - 1000 * per))

grep -m1 'model name' /proc/cpuinfo | sed 's/.*: /cpu: /'
echo "cores: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg), shape ${SHAPE:-mksip}: $per manifest bytes per object"
printf '%-14s %8s %14s %9s %13s %13s %9s %9s\n' binary manifest manifest_bytes objects peak_rss_MiB peak_rss_MB wall_s user_s
for mib in "$@"; do
  # Ids get longer with more objects (GOT-n, BDO-n, AU-n): estimate, then trim until it fits.
  target=$((mib * 1048576))
  n=$(((target - fixed) / per))
  while :; do
    mk "$work/s.zip" "$n"
    m=$(manifest_bytes "$work/s.zip")
    [ "$m" -gt "$target" ] || break
    n=$((n - (m - target) / per - 1))
  done
  for b in "${bins[@]}"; do
    out=$( { /usr/bin/time -f '%M %e %U' "$work/$b" --log-format text verify "$work/s.zip" >/dev/null; } 2>&1 | tail -1)
    read -r rss secs user <<<"$out"
    printf '%-14s %5s MiB %14s %9s %13s %13s %9s %9s\n' "$b" "$mib" "$m" "$n" "$((rss / 1024))" "$((rss * 1024 / 1000000))" "$secs" "$user"
  done
done
