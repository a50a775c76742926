#!/usr/bin/env bash
# Benchmark, not a test: plan from empty state, apply, and a no-op plan of 10,000
# terraform_data resources in 200 files. Prints wall time and peak memory (max RSS) per step.
# Usage: bench/run.sh [N] [FILES]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
files=${2:-200}
cargo build --release -q -p infra-cli
bin=$PWD/target/release/infra
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 bench/gen.py "$dir" "$n" "$files"
measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
start = time.monotonic()
p = subprocess.run(sys.argv[2:], cwd=sys.argv[1], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.monotonic() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
if p.returncode not in (0, 2):
    sys.stderr.write(p.stderr.decode()[-2000:])
    sys.exit(1)
print(f"| {' '.join(sys.argv[3:])} | {wall:.2f} s | {rss:.0f} MB |")
PY
}
echo "| step ($n resources, $files files) | wall | peak RSS |"
echo "|---|---|---|"
measure "$dir" "$bin" plan
measure "$dir" "$bin" apply --auto-approve
measure "$dir" "$bin" plan --detailed-exitcode
measure "$dir" "$bin" plan --refresh=false
