#!/usr/bin/env bash
# Upload throughput of `versement transfer` against `aws s3 cp` (awscli), to the same versitygw on
# loopback, with the same SIP zip. Prints MB/s for each and the ratio versement / aws (median of RUNS).
#
#   bench/upload.sh                    # 256 MiB SIP, 3 runs each, HTTP
#   SIZE_MB=2048 RUNS=5 bench/upload.sh
#   TLS=1 bench/upload.sh              # over HTTPS (self-signed CA passed to both clients)
#
# Needs: go, awscli (Debian package awscli), python3; versitygw in .cache/bin (scripts/test builds it).
# Three uploads of the same file per run, interleaved so that the machine's noise hits them alike:
#   aws s3 cp                               awscli's defaults (CRC32 checksums, cheap)
#   aws s3 cp --checksum-algorithm SHA256   the like-for-like comparison: SHA-256 per part, which the
#                                           server recomputes too
#   versement transfer                      reads the manifest digest, hashes the whole SIP (its
#                                           SHA-256 is unknown to a one-off transfer), then uploads with
#                                           SHA-256 per part and checks the whole-file SHA-256 as it reads
# The ratio that matters is versement / (aws with SHA-256).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
SIZE_MB=${SIZE_MB:-256}
RUNS=${RUNS:-3}
TLS=${TLS:-0}
gw=${VERSEMENT_TEST_VERSITYGW:-$root/.cache/bin/versitygw}
[ -x "$gw" ] || { echo "versitygw not found at $gw: run scripts/test once" >&2; exit 2; }
command -v aws >/dev/null || { echo "aws (awscli) not installed: apt-get install awscli" >&2; exit 2; }

work=$(mktemp -d /tmp/versement-bench-upload.XXXXXX)
gwpid=""
cleanup() { [ -n "$gwpid" ] && kill "$gwpid" 2>/dev/null && wait "$gwpid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/versement" ./cmd/versement
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/s3/data" "$work/s3/versions"
scheme=http
gwargs=(--port "127.0.0.1:$port" --quiet)
if [ "$TLS" = 1 ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
  gwargs+=(--cert "$work/cert.pem" --key "$work/key.pem")
  scheme=https
  export AWS_CA_BUNDLE="$work/cert.pem"
fi
ROOT_ACCESS_KEY=benchak ROOT_SECRET_KEY=benchsk "$gw" "${gwargs[@]}" posix --versioning-dir "$work/s3/versions" "$work/s3/data" &
gwpid=$!
endpoint="$scheme://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=benchak AWS_SECRET_ACCESS_KEY=benchsk AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
for _ in $(seq 50); do aws --endpoint-url "$endpoint" s3api list-buckets >/dev/null 2>&1 && break; sleep 0.1; done
aws --endpoint-url "$endpoint" s3api create-bucket --bucket bench >/dev/null

# A SIP: manifest.xml + one stored (not deflated) random payload, as the pipeline writes big SIPs.
python3 - "$work/sip.zip" "$SIZE_MB" <<'PY'
import os, sys, zipfile
path, mb = sys.argv[1], int(sys.argv[2])
with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
    z.writestr("manifest.xml", '<?xml version="1.0"?><ArchiveTransfer xmlns="fr:gouv:culture:archivesdefrance:seda:v2.1"><MessageIdentifier>BENCH-1</MessageIdentifier></ArchiveTransfer>')
    with z.open("Content/payload.bin", "w", force_zip64=True) as w:
        for _ in range(mb):
            w.write(os.urandom(1 << 20))
PY
bytes=$(stat -c %s "$work/sip.zip")
echo "SIP: $bytes bytes; versitygw at $endpoint; $(nproc) cores; $RUNS runs each"

now() { date +%s.%N; }
mbps() { python3 -c "print(f'{$bytes/($2-$1)/1e6:.1f}')"; }
aws_rates=() sha_rates=() vt_rates=()
for i in $(seq "$RUNS"); do
  sync
  t0=$(now); aws --endpoint-url "$endpoint" s3 cp --only-show-errors "$work/sip.zip" "s3://bench/aws-$i/sip.zip"; t1=$(now)
  aws_rates+=("$(mbps "$t0" "$t1")")
  sync
  t0=$(now); aws --endpoint-url "$endpoint" s3 cp --only-show-errors --checksum-algorithm SHA256 "$work/sip.zip" "s3://bench/sha-$i/sip.zip"; t1=$(now)
  sha_rates+=("$(mbps "$t0" "$t1")")
  sync
  t0=$(now); "$work/versement" --log-level error transfer --target "s3://bench/vt-$i?endpoint=$endpoint&path-style=true" "$work/sip.zip" >/dev/null; t1=$(now)
  vt_rates+=("$(mbps "$t0" "$t1")")
  echo "run $i: aws s3 cp ${aws_rates[-1]} MB/s, aws s3 cp --checksum-algorithm SHA256 ${sha_rates[-1]} MB/s, versement transfer ${vt_rates[-1]} MB/s"
  aws --endpoint-url "$endpoint" s3 rm --recursive --only-show-errors "s3://bench/" # keep the disk small
done
python3 - "${aws_rates[*]}" "${sha_rates[*]}" "${vt_rates[*]}" <<'PY'
import statistics, sys
a, s, v = ([float(x) for x in arg.split()] for arg in sys.argv[1:4])
ma, ms, mv = statistics.median(a), statistics.median(s), statistics.median(v)
print(f"median MB/s: aws s3 cp {ma:.1f}, aws s3 cp --checksum-algorithm SHA256 {ms:.1f}, versement transfer {mv:.1f}")
print(f"ratio versement / aws(SHA256) = {mv/ms:.2f}x; versement / aws(default CRC32) = {mv/ma:.2f}x")
PY
