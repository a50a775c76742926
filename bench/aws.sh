#!/usr/bin/env bash
# Benchmark, not a test: 200 x (VPC + 2 subnets + security group) + 200 ECS task definitions
# = 1,000 AWS resources against a local moto server. Prints wall time, peak memory (max RSS)
# and the API calls moto answered, per step. Usage: bench/aws.sh [GROUPS] [debug|release]
set -euo pipefail
cd "$(dirname "$0")/.."
groups=${1:-200}
profile=${2:-release}
if [ "$profile" = release ]; then cargo build --release -q -p infra-cli; else cargo build -q -p infra-cli; fi
bin=$PWD/target/$profile/infra
[ "$profile" = debug ] && bin=$PWD/target/debug/infra
venv=$PWD/target/moto-venv
if [ ! -x "$venv/bin/moto_server" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'moto[ec2,ecs,efs,elbv2,acm]' flask flask-cors
fi
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$dir/moto.log" 2>&1 &
moto=$!
trap 'kill $moto; rm -rf "$dir"' EXIT
until curl -s -o /dev/null "http://127.0.0.1:$port/moto-api/"; do sleep 0.2; done
mkdir "$dir/stack"
cat >"$dir/stack/main.tf" <<TF
provider "aws" {
  region      = "us-east-1"
  access_key  = "test"
  secret_key  = "test"
  max_retries = 0
  endpoints {
    ec2 = "http://127.0.0.1:$port"
    ecs = "http://127.0.0.1:$port"
  }
}

resource "aws_vpc" "net" {
  count      = $groups
  cidr_block = "10.\${count.index}.0.0/16"
}

resource "aws_subnet" "a" {
  count      = $groups
  vpc_id     = aws_vpc.net[count.index].id
  cidr_block = "10.\${count.index}.1.0/24"
}

resource "aws_subnet" "b" {
  count      = $groups
  vpc_id     = aws_vpc.net[count.index].id
  cidr_block = "10.\${count.index}.2.0/24"
}

resource "aws_security_group" "web" {
  count  = $groups
  name   = "web-\${count.index}"
  vpc_id = aws_vpc.net[count.index].id
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_ecs_task_definition" "app" {
  count                 = $groups
  family                = "app-\${count.index}"
  container_definitions = jsonencode([{ name = "app", image = "nginx:1.27", memory = 128, portMappings = [{ containerPort = 80 }] }])
}
TF
calls() { grep -cE '"(GET|POST|PUT|DELETE) /' "$dir/moto.log" || true; }
measure() {
  local before
  before=$(calls)
  python3 - "$dir/stack" "$@" <<'PY'
import resource, subprocess, sys, time
start = time.monotonic()
p = subprocess.run(sys.argv[2:], cwd=sys.argv[1], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.monotonic() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
if p.returncode not in (0, 2):
    sys.stderr.write(p.stderr.decode()[-3000:])
    sys.exit(1)
print(f"| {' '.join(sys.argv[3:])} | {wall:.2f} s | {rss:.0f} MB |", end="")
PY
  echo " $(($(calls) - before)) |"
}
echo "| step ($((groups * 5)) AWS resources, $profile) | wall | peak RSS | API calls |"
echo "|---|---|---|---|"
measure "$bin" apply --auto-approve --parallelism 20
measure "$bin" plan --detailed-exitcode
measure "$bin" plan --refresh-full --detailed-exitcode
measure "$bin" plan --refresh=false --detailed-exitcode
measure "$bin" drift
# `infra discover aws` over the same region (every type it lists; ids read in batches per type).
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test measure "$bin" discover aws --region us-east-1 --endpoint "http://127.0.0.1:$port" --max-retries 0 --out "$dir/discovered"
