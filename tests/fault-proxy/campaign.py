#!/usr/bin/env python3
"""The crash and fault campaign of an AWS example stack against moto (issue 9's figures).

Each run starts from an empty moto and does what a CI runner that dies would leave behind:

  kill mode:   `infra apply` killed with SIGKILL after a random delay, then (if a lock file
               remains) `infra force-unlock`, then recovery `apply`
  points mode: the same, killed at each step boundary in turn: right after the create of each
               object of the stack (the engine's test hook INFRA_TEST_ABORT_AFTER_CREATE)
  proxy mode:  `infra apply` through fault_proxy.py (lost responses, throttling, resets)
               until one succeeds (at most --attempts), then through a clean path

After a kill, a `plan` runs through the proxy with --forbid-mutating: any mutating call it sends
is counted as a plan write. Then `plan --detailed-exitcode` (must say 0: nothing to do),
`destroy`, and counts what is left in moto. Per run it reports: plan writes, stuck (the recovery apply or the plan failed, or the plan was not
empty), duplicates (more objects than a clean apply makes, after recovery), leftovers (objects
in moto after destroy: orphans that no state held).

Run it from the repository root after `cargo build --release -p infra-cli`:

  python3 tests/fault-proxy/campaign.py --moto target/moto-venv/bin/moto_server \
      --infra target/release/infra --example examples/bdd-bot --mode kill --runs 40

Extra variables go through --var NAME=VALUE (bdd-bot: backup_policy=false
deletion_protection=false, since moto lacks the backup policy API). Needs boto3, which moto's
venv has: run it with that venv's python.
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(cmd, ready, log):
    proc = subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("%s exited: %s" % (cmd[0], open(log).read()[-2000:]))
        if ready in open(log).read():
            return proc
        time.sleep(0.1)
    raise SystemExit("%s did not start" % cmd[0])


def count_objects(endpoint, region):
    """Every object of the types the example stacks use, by type (defaults excluded)."""
    import boto3
    kw = dict(endpoint_url=endpoint, region_name=region, aws_access_key_id="test", aws_secret_access_key="test")
    ec2, efs, ecs, elb = (boto3.client(s, **kw) for s in ("ec2", "efs", "ecs", "elbv2"))
    n = {}
    vpcs = [v for v in ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault")]
    ids = [v["VpcId"] for v in vpcs]
    n["vpc"] = len(vpcs)
    flt = [{"Name": "vpc-id", "Values": ids}] if ids else None
    if flt:
        n["subnet"] = len(ec2.describe_subnets(Filters=flt)["Subnets"])
        n["security_group"] = len([g for g in ec2.describe_security_groups(Filters=flt)["SecurityGroups"] if g["GroupName"] != "default"])
        tables = ec2.describe_route_tables(Filters=flt)["RouteTables"]
        n["route_table"] = len([t for t in tables if not any(a.get("Main") for a in t.get("Associations", []))])
        n["route"] = sum(len([r for r in t["Routes"] if r.get("GatewayId", "") != "local"]) for t in tables)
        n["instance"] = sum(len(r["Instances"]) for r in ec2.describe_instances(Filters=flt + [{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])["Reservations"])
    n["internet_gateway"] = len(ec2.describe_internet_gateways()["InternetGateways"])
    fss = efs.describe_file_systems()["FileSystems"]
    n["efs"] = len(fss)
    n["mount_target"] = sum(len(efs.describe_mount_targets(FileSystemId=f["FileSystemId"])["MountTargets"]) for f in fss)
    # A deleted cluster or service stays listed as INACTIVE (in AWS for a while, in moto for good).
    arns = ecs.list_clusters()["clusterArns"]
    clusters = [c["clusterArn"] for c in ecs.describe_clusters(clusters=arns)["clusters"] if c["status"] == "ACTIVE"] if arns else []
    n["ecs_cluster"] = len(clusters)
    n["ecs_service"] = 0
    for c in clusters:
        services = ecs.list_services(cluster=c)["serviceArns"]
        if services:
            n["ecs_service"] += len([x for x in ecs.describe_services(cluster=c, services=services)["services"] if x["status"] == "ACTIVE"])
    n["task_definition"] = len(ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"])
    lbs = elb.describe_load_balancers()["LoadBalancers"]
    n["lb"] = len(lbs)
    n["target_group"] = len(elb.describe_target_groups()["TargetGroups"])
    n["listener"] = sum(len(elb.describe_listeners(LoadBalancerArn=l["LoadBalancerArn"])["Listeners"]) for l in lbs)
    return {k: v for k, v in n.items() if v}


def infra(args, bin_, cwd, env, timeout=600):
    p = subprocess.run([bin_] + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--moto", required=True)
    ap.add_argument("--infra", required=True)
    ap.add_argument("--example", required=True)
    ap.add_argument("--mode", choices=["kill", "points", "proxy"], default="kill")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--max-delay", type=float, default=0.5, help="kill mode: kill within this many seconds")
    ap.add_argument("--lose", type=float, default=0.1)
    ap.add_argument("--throttle", type=float, default=0.1)
    ap.add_argument("--reset", type=float, default=0.0)
    ap.add_argument("--garbage", type=float, default=0.0)
    ap.add_argument("--attempts", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--var", action="append", default=[])
    ap.add_argument("--certificate", default=None, metavar="DOMAIN",
                    help="request an ACM certificate for DOMAIN in moto before each run and pass it as certificate_arn")
    ap.add_argument("--keep", action="store_true", help="keep each run's directory")
    o = ap.parse_args()
    o.infra, o.moto, o.example = (os.path.abspath(x) for x in (o.infra, o.moto, o.example))
    rng = random.Random(o.seed)
    work = tempfile.mkdtemp(prefix="infra-campaign-")
    port = free_port()
    moto = start([o.moto, "-H", "127.0.0.1", "-p", str(port)], "Running on", os.path.join(work, "moto.log"))
    endpoint = "http://127.0.0.1:%d" % port
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION=o.region, NO_COLOR="1")
    totals = dict(runs=0, plan_writes=0, stuck=0, duplicates=0, leftovers=0)
    baseline = None
    points = []
    try:
        run = -2
        while True:
            run += 1
            if run >= (len(points) if o.mode == "points" else o.runs):
                break
            urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset", method="POST")).read()
            d = os.path.join(work, "run%d" % run)
            shutil.copytree(o.example, d)
            if o.certificate:
                import boto3
                acm = boto3.client("acm", endpoint_url=endpoint, region_name=o.region, aws_access_key_id="test", aws_secret_access_key="test")
                arn = acm.request_certificate(DomainName=o.certificate)["CertificateArn"]
                o.var = [v for v in o.var if not v.startswith("certificate_arn=")] + ["certificate_arn=" + arn]
            clean_vars = ["--var", "aws_endpoint=" + endpoint] + [a for v in o.var for a in ("--var", v)]
            note = ""
            if run == -1:
                rc, out = infra(["apply", "--auto-approve"] + clean_vars, o.infra, d, env)
                if rc != 0:
                    raise SystemExit("the clean apply failed:\n" + out[-3000:])
                baseline = count_objects(endpoint, o.region)
                print("baseline: %s" % json.dumps(baseline), flush=True)
                points = infra(["state", "list"], o.infra, d, env)[1].split()
                infra(["destroy", "--auto-approve"] + clean_vars, o.infra, d, env)
                continue
            writes = 0
            if o.mode in ("kill", "points"):
                if o.mode == "kill":
                    delay = rng.uniform(0, o.max_delay)
                    p = subprocess.Popen([o.infra, "apply", "--auto-approve"] + clean_vars, cwd=d, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(delay)
                    p.send_signal(signal.SIGKILL)
                    p.wait()
                    note = "killed at %.3fs" % delay
                else:
                    point_env = dict(env, INFRA_TEST_ABORT_AFTER_CREATE=points[run])
                    infra(["apply", "--auto-approve"] + clean_vars, o.infra, d, point_env)
                    note = "killed after creating %s" % points[run]
                lock = os.path.join(d, "infra.tfstate.lock.info")
                if os.path.exists(lock):
                    lock_id = json.load(open(lock)).get("ID", "")
                    infra(["force-unlock", lock_id], o.infra, d, env)
                # Planning what the kill left must not change anything.
                pport = free_port()
                proxy = start([sys.executable, os.path.join(HERE, "fault_proxy.py"), "--backend", endpoint, "--port", str(pport), "--forbid-mutating",
                               "--log", os.path.join(d, "plan-proxy.jsonl")], "listening on", os.path.join(d, "plan-proxy.out"))
                ro_vars = ["--var", "aws_endpoint=http://127.0.0.1:%d" % pport] + [a for v in o.var for a in ("--var", v)]
                infra(["plan"] + ro_vars, o.infra, d, env)
                proxy.terminate()
                proxy.wait()
                log = os.path.join(d, "plan-proxy.jsonl")
                writes = sum(1 for line in open(log) if json.loads(line).get("fault") == "forbidden") if os.path.exists(log) else 0
            else:
                pport = free_port()
                proxy = start([sys.executable, os.path.join(HERE, "fault_proxy.py"), "--backend", endpoint, "--port", str(pport),
                               "--lose", str(o.lose), "--throttle", str(o.throttle), "--reset", str(o.reset), "--garbage", str(o.garbage), "--seed", str(rng.randrange(1 << 30)),
                               "--log", os.path.join(d, "proxy.jsonl")], "listening on", os.path.join(d, "proxy.out"))
                faulty = ["--var", "aws_endpoint=http://127.0.0.1:%d" % pport] + [a for v in o.var for a in ("--var", v)]
                tries = 0
                for tries in range(1, o.attempts + 1):
                    rc, _ = infra(["apply", "--auto-approve"] + faulty, o.infra, d, env)
                    if rc == 0:
                        break
                proxy.terminate()
                proxy.wait()
                injected = {}
                for line in open(os.path.join(d, "proxy.jsonl")):
                    fault = json.loads(line).get("fault")
                    if fault:
                        injected[fault] = injected.get(fault, 0) + 1
                for k, v in injected.items():
                    totals["faults_" + k] = totals.get("faults_" + k, 0) + v
                note = "%d faulty applies, faults %s" % (tries, json.dumps(injected, sort_keys=True))
            rc, out = infra(["apply", "--auto-approve"] + clean_vars, o.infra, d, env)
            rc2, out2 = infra(["plan", "--detailed-exitcode"] + clean_vars, o.infra, d, env)
            stuck = rc != 0 or rc2 != 0
            have = count_objects(endpoint, o.region)
            dup = sum(max(0, have.get(k, 0) - n) for k, n in baseline.items())
            rc4, out4 = infra(["destroy", "--auto-approve"] + clean_vars, o.infra, d, env)
            left = count_objects(endpoint, o.region)
            leftovers = sum(left.values())
            totals["runs"] += 1
            totals["plan_writes"] += writes
            totals["stuck"] += int(stuck)
            totals["duplicates"] += dup
            totals["leftovers"] += leftovers
            print("run %d (%s): plan_writes=%d apply=%d plan=%d destroy=%d duplicates=%d leftovers=%d %s" % (
                run, note, writes, rc, rc2, rc4, dup, leftovers, json.dumps(left) if left else ""), flush=True)
            if stuck:
                print("  " + (out if rc != 0 else out2).strip().splitlines()[-1][:300], flush=True)
            if not o.keep:
                shutil.rmtree(d, ignore_errors=True)
    finally:
        moto.terminate()
    print("totals: %s" % json.dumps(totals))
    return 0 if totals["plan_writes"] == totals["stuck"] == totals["duplicates"] == totals["leftovers"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
