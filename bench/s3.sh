#!/usr/bin/env bash
# State write cost per finished object: an apply of N terraform_data objects (default 1000)
# with the local backend, then with the s3 backend on moto, its journal as segments (what
# infra does) and as a conditional rewrite of the whole state per durable step (the
# alternative, INFRA_S3_JOURNAL=rewrite). Prints wall time, S3 requests and bytes sent.
# Usage: bench/s3.sh [N] [PARALLELISM]   (INFRA_BIN=path to measure a given binary)
set -euo pipefail
n=${1:-1000}
par=${2:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${INFRA_BIN:-$root/target/release/infra}
[ -n "${INFRA_BIN:-}" ] || (cd "$root" && cargo build -q --release -p infra-cli --bin infra)
moto=${INFRA_MOTO_SERVER:-$root/target/moto-venv/bin/moto_server}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
work=$(mktemp -d)
"$moto" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid; rm -rf "$work"' EXIT
until curl -s "http://127.0.0.1:$port/" >/dev/null; do sleep 0.2; done
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true
curl -s -X PUT "http://127.0.0.1:$port/bench-state" -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x' >/dev/null
res="resource \"terraform_data\" \"n\" {\n  count = $n\n  input = \"object-\${count.index}\"\n}\n"
run() { # name, dir, extra env
  local name=$1 dir=$2; shift 2
  local t0 t1
  t0=$(date +%s.%N)
  env "$@" INFRA_S3_STATS=1 "$bin" -chdir="$dir" apply -auto-approve -parallelism="$par" >"$work/$name.out" 2>"$work/$name.err"
  t1=$(date +%s.%N)
  printf '%-22s wall %6.2f s  %s\n' "$name" "$(echo "$t1 - $t0" | bc)" "$(grep 's3 backend' "$work/$name.err" || true)"
}
mkdir -p "$work/local"
printf "$res" >"$work/local/main.tf"
run local "$work/local"
echo "  state file: $(stat -c %s "$work/local/infra.tfstate") bytes"
for mode in segments rewrite; do
  mkdir -p "$work/$mode"
  printf "terraform {\n  backend \"s3\" {\n    bucket = \"bench-state\"\n    key = \"$mode.tfstate\"\n    region = \"us-east-1\"\n    use_path_style = true\n    use_lockfile = true\n    endpoints {\n      s3 = \"http://127.0.0.1:$port\"\n    }\n  }\n}\n$res" >"$work/$mode/main.tf"
  "$bin" -chdir="$work/$mode" init >/dev/null
  run "s3 $mode" "$work/$mode" INFRA_S3_JOURNAL=$mode
done
