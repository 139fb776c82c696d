#!/usr/bin/env bash
# Peak RSS of `versement verify` against the size of the manifest: SIPs of N small JSON objects
# (16 bytes each, one unit each, as a SIP of many tiny dossiers), so that the manifest, not the
# payload, is what grows. Prints objects, manifest bytes, peak RSS and wall time per size.
#
#   bench/verify-memory.sh [N...]        # default: 15000 60000 240000
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/versement-verifymem.XXXXXX)
trap 'rm -rf "$work"' EXIT
go build -o "$work/versement" ./cmd/versement
go build -o "$work/mksip" ./bench/mksip
[ $# -gt 0 ] || set -- 15000 60000 240000
printf '%10s %14s %12s %10s\n' objects manifest_bytes peak_rss_MB seconds
for n in "$@"; do
  "$work/mksip" -out "$work/s.zip" -files "$n" -size 16 -kind json >/dev/null
  m=$(unzip -l "$work/s.zip" manifest.xml | awk '/manifest.xml/ {print $1}')
  out=$( { /usr/bin/time -f '%M %e' "$work/versement" --log-format text verify "$work/s.zip" >/dev/null; } 2>&1 | tail -1)
  read -r rss secs <<<"$out"
  printf '%10s %14s %12s %10s\n' "$n" "$m" "$((rss / 1024))" "$secs"
done
