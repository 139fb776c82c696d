#!/usr/bin/env bash
# Reading one dossier back out of a ~1 GiB SIP on S3 (issue 15, Retrieve): versement's reader (the
# s3 target's Opener: ranged GETs behind a block cache, then sip.Open / Unit / Object with every
# digest checked) against the obvious way (aws s3 cp of the whole SIP, then unzip -p of the
# manifest and of the dossier's objects, sha256sum of them). Prints, per run, the bytes fetched,
# the requests and the time of each, then the ratios (obvious / versement) min and median over
# alternating runs.
#
#   bench/retrieve-bytes.sh                      # 1000 dossiers × (4 KiB JSON + 1 MiB photo), 3 runs
#   DOSSIERS=4000 PHOTO=262144 bench/retrieve-bytes.sh   # more, smaller dossiers: a larger manifest
#   RUNS=5 KEY=K0000500 bench/retrieve-bytes.sh
#
# The dossier read is the last by default (KEY=K0000999 for 1000): its unit ends the manifest, so
# the whole manifest is read: the worst case. Aim: < 1 MiB fetched besides the dossier's objects.
# Needs: go, awscli, unzip, python3; versitygw in .cache/bin (scripts/test builds it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
DOSSIERS=${DOSSIERS:-1000}
PHOTO=${PHOTO:-1048576}
RUNS=${RUNS:-3}
KEY=${KEY:-$(printf 'K%07d' $((DOSSIERS - 1)))}
gw=${VERSEMENT_TEST_VERSITYGW:-$root/.cache/bin/versitygw}
[ -x "$gw" ] || { echo "versitygw not found at $gw: run scripts/test once" >&2; exit 2; }
for c in aws unzip python3; do command -v $c >/dev/null || { echo "$c not installed" >&2; exit 2; }; done

work=$(mktemp -d /tmp/versement-bench-retrieve.XXXXXX)
gwpid=""
cleanup() { [ -n "$gwpid" ] && kill "$gwpid" 2>/dev/null && wait "$gwpid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

go test -c -o "$work/s3.test" ./transfer/s3
VERSEMENT_BENCH_MKSIP="$work/sip.zip" VERSEMENT_BENCH_DOSSIERS=$DOSSIERS VERSEMENT_BENCH_PHOTO=$PHOTO \
  "$work/s3.test" -test.run '^TestRetrieveBenchSIP$' >/dev/null
size=$(stat -c %s "$work/sip.zip")
# The dossier's objects, as the writer names them (KNNNNNNN is dossier NNNNNNN).
n=${KEY#K}
objs=("Content/D$n.json" "Content/D$n.jpg")

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/s3/data" "$work/s3/versions"
ROOT_ACCESS_KEY=benchak ROOT_SECRET_KEY=benchsk "$gw" --port "127.0.0.1:$port" --quiet posix --versioning-dir "$work/s3/versions" "$work/s3/data" &
gwpid=$!
endpoint="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=benchak AWS_SECRET_ACCESS_KEY=benchsk AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
for _ in $(seq 50); do aws --endpoint-url "$endpoint" s3api list-buckets >/dev/null 2>&1 && break; sleep 0.1; done
aws --endpoint-url "$endpoint" s3api create-bucket --bucket bench >/dev/null
aws --endpoint-url "$endpoint" s3 cp --only-show-errors "$work/sip.zip" s3://bench/sip.zip
manifest=$(unzip -l "$work/sip.zip" manifest.xml | awk '/manifest.xml/{print $1}')
echo "SIP: $size bytes, $DOSSIERS dossiers, manifest $manifest bytes uncompressed; dossier $KEY (${objs[*]}); versitygw at $endpoint; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); $RUNS runs each"

now() { date +%s.%N; }
ours() {
  VERSEMENT_BENCH_TARGET="s3://bench?endpoint=$endpoint&path-style=true" VERSEMENT_BENCH_NAME=sip.zip VERSEMENT_BENCH_KEY=$KEY \
    "$work/s3.test" -test.run '^TestRetrieveBench$' | grep '^fetched='
}
obvious() {
  aws --endpoint-url "$endpoint" s3 cp --only-show-errors s3://bench/sip.zip "$work/dl.zip"
  unzip -p "$work/dl.zip" manifest.xml | grep -c "<OriginatingSystemId>$KEY</OriginatingSystemId>" >/dev/null
  for o in "${objs[@]}"; do unzip -p "$work/dl.zip" "$o" | sha256sum >/dev/null; done
  rm -f "$work/dl.zip"
}
ours_t=() obv_t=() line=""
for i in $(seq "$RUNS"); do
  sync
  t0=$(now); line=$(ours); t1=$(now)
  ours_t+=("$(python3 -c "print($t1-$t0)")")
  sync
  t0=$(now); obvious; t1=$(now)
  obv_t+=("$(python3 -c "print($t1-$t0)")")
  printf 'run %d: versement %s in %.3f s; obvious way %d bytes (the whole SIP) in %.3f s\n' "$i" "$line" "${ours_t[-1]}" "$size" "${obv_t[-1]}"
done
python3 - "$line" "$size" "${ours_t[*]}" "${obv_t[*]}" <<'PY'
import statistics, sys
f = dict(kv.split("=") for kv in sys.argv[1].split())
size = int(sys.argv[2])
o, b = [float(x) for x in sys.argv[3].split()], [float(x) for x in sys.argv[4].split()]
fetched, objb = int(f["fetched"]), int(f["object_bytes"])
extra = fetched - objb
print(f"versement: {fetched} bytes in {f['requests']} requests, {objb} of them the dossier's {f['objects']} objects: "
      f"{extra} bytes ({extra/2**20:.2f} MiB) besides them (aim < 1 MiB: {'met' if extra < 2**20 else 'NOT met'}); "
      f"{size/fetched:.0f}x fewer bytes than the whole SIP")
r = [bb / oo for oo, bb in zip(o, b)]
print(f"time: versement median {statistics.median(o):.3f} s (min {min(o):.3f}), obvious way median {statistics.median(b):.3f} s (min {min(b):.3f}); "
      f"ratio obvious/versement min {min(r):.1f}x, median {statistics.median(r):.1f}x")
PY
