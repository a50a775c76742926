"""Builds seed 000's production stack by hand, with the boto3 calls the seed guide's AWS CLI
commands make (and the Terraform sketch of its "Configuration AWS" section describes): a VPC
with DNS support and hostnames, public and private subnets over two zones, an internet gateway,
a public route table with a default route added by `create-route` and its two associations,
three security groups referencing each other (load balancer <- tasks <- EFS), an encrypted EFS
file system with provisioned throughput (100 MiB/s) and a mount target per private subnet, the
cluster with Container Insights, two task definitions (the backend mounts the EFS volume), two
target groups, the load balancer with deletion protection on, its HTTP listener (frontend by
default) and a listener rule sending /api/* and /socket.io/* to the backend, and two Fargate
services behind the target groups.

Usage: python seed_000_stack.py ENDPOINT  (prints the ids as JSON)"""

import json
import sys

import boto3

url = sys.argv[1]
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
ec2 = boto3.client("ec2", **kw)
efs = boto3.client("efs", **kw)
elb = boto3.client("elbv2", **kw)
ecs = boto3.client("ecs", **kw)


def tags(name):
    return [{"Key": "Name", "Value": name}, {"Key": "app", "Value": "bdd-bot"}]


def spec(kind, name):
    return [{"ResourceType": kind, "Tags": tags(name)}]


# aws ec2 create-vpc --cidr-block 10.0.0.0/16; modify-vpc-attribute --enable-dns-support/--enable-dns-hostnames
vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=spec("vpc", "bdd-bot-vpc"))["Vpc"]["VpcId"]
ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})


def subnet(cidr, az, name, public):
    s = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az, TagSpecifications=spec("subnet", name))["Subnet"]["SubnetId"]
    if public:
        ec2.modify_subnet_attribute(SubnetId=s, MapPublicIpOnLaunch={"Value": True})
    return s


public = [subnet("10.0.1.0/24", "us-east-1a", "bdd-bot-public-a", True), subnet("10.0.2.0/24", "us-east-1b", "bdd-bot-public-b", True)]
private = [subnet("10.0.11.0/24", "us-east-1a", "bdd-bot-private-a", False), subnet("10.0.12.0/24", "us-east-1b", "bdd-bot-private-b", False)]
igw = ec2.create_internet_gateway(TagSpecifications=spec("internet-gateway", "bdd-bot-igw"))["InternetGateway"]["InternetGatewayId"]
ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
rt = ec2.create_route_table(VpcId=vpc, TagSpecifications=spec("route-table", "bdd-bot-public"))["RouteTable"]["RouteTableId"]
ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
for s in public:
    ec2.associate_route_table(RouteTableId=rt, SubnetId=s)


def group(name, description):
    return ec2.create_security_group(GroupName=name, Description=description, VpcId=vpc, TagSpecifications=spec("security-group", name))["GroupId"]


alb_sg = group("bdd-bot-alb", "Load balancer: HTTP and HTTPS from anywhere")
ec2.authorize_security_group_ingress(
    GroupId=alb_sg,
    IpPermissions=[{"IpProtocol": "tcp", "FromPort": p, "ToPort": p, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]} for p in (80, 443)],
)
tasks_sg = group("bdd-bot-tasks", "ECS tasks: the app ports from the load balancer")
ec2.authorize_security_group_ingress(
    GroupId=tasks_sg,
    IpPermissions=[{"IpProtocol": "tcp", "FromPort": p, "ToPort": p, "UserIdGroupPairs": [{"GroupId": alb_sg}]} for p in (3001, 8080)],
)
efs_sg = group("bdd-bot-efs", "EFS: NFS from the tasks")
ec2.authorize_security_group_ingress(GroupId=efs_sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049, "UserIdGroupPairs": [{"GroupId": tasks_sg}]}])

# aws efs create-file-system --creation-token bdd-bot-sqlite-storage --performance-mode generalPurpose
#   --throughput-mode provisioned --provisioned-throughput-in-mibps 100 (encrypted, as the guide's Terraform says)
fs = efs.create_file_system(
    CreationToken="bdd-bot-sqlite-storage",
    PerformanceMode="generalPurpose",
    ThroughputMode="provisioned",
    ProvisionedThroughputInMibps=100,
    Encrypted=True,
    Tags=[{"Key": "Name", "Value": "bdd-bot-sqlite-storage"}, {"Key": "app", "Value": "bdd-bot"}],
)["FileSystemId"]
mounts = [efs.create_mount_target(FileSystemId=fs, SubnetId=s, SecurityGroups=[efs_sg])["MountTargetId"] for s in private]

# aws ecs create-cluster --cluster-name bdd-bot-prod --settings name=containerInsights,value=enabled
cluster = ecs.create_cluster(clusterName="bdd-bot-prod", settings=[{"name": "containerInsights", "value": "enabled"}])["cluster"]["clusterArn"]


# aws ecs register-task-definition --cli-input-json file://aws/fargate/backend-task-definition.json (and frontend)
def task(family, port, volume):
    container = {"name": family, "image": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{family}:latest", "essential": True, "portMappings": [{"containerPort": port, "protocol": "tcp"}]}
    args = dict(family=family, requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512")
    if volume:
        container["mountPoints"] = [{"sourceVolume": "sqlite", "containerPath": "/app/data"}]
        args["volumes"] = [{"name": "sqlite", "efsVolumeConfiguration": {"fileSystemId": fs, "transitEncryption": "ENABLED"}}]
    return ecs.register_task_definition(containerDefinitions=[container], **args)["taskDefinition"]["taskDefinitionArn"]


backend_td = task("bdd-bot-backend", 3001, True)
frontend_td = task("bdd-bot-frontend", 8080, False)


def target_group(name, port):
    return elb.create_target_group(
        Name=name, Protocol="HTTP", Port=port, VpcId=vpc, TargetType="ip", HealthCheckPath="/health", Tags=tags(name)
    )["TargetGroups"][0]["TargetGroupArn"]


backend_tg = target_group("bdd-bot-backend", 3001)
frontend_tg = target_group("bdd-bot-frontend", 8080)
lb = elb.create_load_balancer(Name="bdd-bot-alb", Subnets=public, SecurityGroups=[alb_sg], Scheme="internet-facing", Type="application", Tags=tags("bdd-bot-alb"))[
    "LoadBalancers"
][0]["LoadBalancerArn"]
elb.modify_load_balancer_attributes(LoadBalancerArn=lb, Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}])
listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": frontend_tg}])["Listeners"][0]["ListenerArn"]
rule = elb.create_rule(
    ListenerArn=listener,
    Priority=10,
    Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*", "/socket.io/*"]}}],
    Actions=[{"Type": "forward", "TargetGroupArn": backend_tg}],
)["Rules"][0]["RuleArn"]


# aws ecs create-service --cluster bdd-bot-prod --service-name … --desired-count 2 --launch-type FARGATE
#   --network-configuration "awsvpcConfiguration={subnets=[…],securityGroups=[…],assignPublicIp=ENABLED}"
def service(name, td, tg, port):
    return ecs.create_service(
        cluster="bdd-bot-prod",
        serviceName=name,
        taskDefinition=td,
        desiredCount=2,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": private, "securityGroups": [tasks_sg], "assignPublicIp": "ENABLED"}},
        loadBalancers=[{"targetGroupArn": tg, "containerName": name, "containerPort": port}],
    )["service"]["serviceArn"]


services = [service("bdd-bot-backend", backend_td, backend_tg, 3001), service("bdd-bot-frontend", frontend_td, frontend_tg, 8080)]
print(
    json.dumps(
        {
            "vpc": vpc,
            "public": public,
            "private": private,
            "igw": igw,
            "route_table": rt,
            "security_groups": [alb_sg, tasks_sg, efs_sg],
            "efs": fs,
            "mount_targets": mounts,
            "cluster": cluster,
            "task_definitions": [backend_td, frontend_td],
            "target_groups": [backend_tg, frontend_tg],
            "lb": lb,
            "listener": listener,
            "rule": rule,
            "services": services,
        }
    )
)
