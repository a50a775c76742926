#!/usr/bin/env bash
# Benchmark, not a test: plan from empty state, apply, and a no-op plan of 10,000
# terraform_data resources in 200 files. Prints wall time and peak memory (max RSS) per step,
# and the size of the state file. SHAPE is `strings` (default) or `objects` (see gen.py).
# Usage: [INFRA_BIN=path] bench/run.sh [N] [FILES] [SHAPE]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
files=${2:-200}
shape=${3:-strings}
# INFRA_BIN measures another build (say, a copy of the binary before a change) as it is.
if [ -z "${INFRA_BIN:-}" ]; then
  cargo build --release -q -p infra-cli
fi
bin=${INFRA_BIN:-$PWD/target/release/infra}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 bench/gen.py "$dir" "$n" "$files" "$shape"
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
echo "| step ($n resources, $files files, $shape) | wall | peak RSS |"
echo "|---|---|---|"
measure "$dir" "$bin" plan
measure "$dir" "$bin" apply --auto-approve
measure "$dir" "$bin" plan --detailed-exitcode
measure "$dir" "$bin" plan --refresh=false
echo "state file: $(du -k "$dir/infra.tfstate" | cut -f1) KB"
