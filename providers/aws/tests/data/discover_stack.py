"""Builds a small stack by hand, as a person would with the AWS CLI, for `infra discover aws`
tests: a VPC with two subnets, an internet gateway, a route table with a default route and two
associations, two security groups (the app's admits the load balancer's), an EFS file system
with a mount target, a target group, a load balancer and its listener.

Usage: python discover_stack.py ENDPOINT  (prints the ids as JSON)"""

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


vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16", TagSpecifications=spec("vpc", "bdd-bot-vpc"))["Vpc"]["VpcId"]
ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone="us-east-1a", TagSpecifications=spec("subnet", "bdd-bot-public-a"))["Subnet"]["SubnetId"]
b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.2.0/24", AvailabilityZone="us-east-1b", TagSpecifications=spec("subnet", "bdd-bot-public-b"))["Subnet"]["SubnetId"]
igw = ec2.create_internet_gateway(TagSpecifications=spec("internet-gateway", "bdd-bot-igw"))["InternetGateway"]["InternetGatewayId"]
ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
rt = ec2.create_route_table(VpcId=vpc, TagSpecifications=spec("route-table", "bdd-bot-public"))["RouteTable"]["RouteTableId"]
ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
ec2.associate_route_table(RouteTableId=rt, SubnetId=a)
ec2.associate_route_table(RouteTableId=rt, SubnetId=b)
alb_sg = ec2.create_security_group(GroupName="bdd-bot-alb", Description="load balancer", VpcId=vpc, TagSpecifications=spec("security-group", "bdd-bot-alb"))["GroupId"]
ec2.authorize_security_group_ingress(GroupId=alb_sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
app_sg = ec2.create_security_group(GroupName="bdd-bot-app", Description="app tasks", VpcId=vpc, TagSpecifications=spec("security-group", "bdd-bot-app"))["GroupId"]
ec2.authorize_security_group_ingress(GroupId=app_sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": alb_sg}]}])
fs = efs.create_file_system(CreationToken="bdd-bot-sqlite-storage", Encrypted=True, Tags=tags("bdd-bot-data"))["FileSystemId"]
mt = efs.create_mount_target(FileSystemId=fs, SubnetId=a, SecurityGroups=[app_sg])["MountTargetId"]
tg = elb.create_target_group(Name="bdd-bot-app", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip", Tags=tags("bdd-bot-app"))["TargetGroups"][0]["TargetGroupArn"]
lb = elb.create_load_balancer(Name="bdd-bot-alb", Subnets=[a, b], SecurityGroups=[alb_sg], Scheme="internet-facing", Type="application", Tags=tags("bdd-bot-alb"))["LoadBalancers"][0]["LoadBalancerArn"]
listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"]
cluster = ecs.create_cluster(clusterName="bdd-bot-prod", settings=[{"name": "containerInsights", "value": "enabled"}])["cluster"]["clusterArn"]
container = {"name": "bot", "image": "ghcr.io/example/bdd-bot:1", "essential": True, "portMappings": [{"containerPort": 8080, "protocol": "tcp"}], "mountPoints": [{"sourceVolume": "data", "containerPath": "/data"}]}
task = ecs.register_task_definition(
    family="bdd-bot",
    requiresCompatibilities=["FARGATE"],
    networkMode="awsvpc",
    cpu="256",
    memory="512",
    containerDefinitions=[container],
    volumes=[{"name": "data", "efsVolumeConfiguration": {"fileSystemId": fs, "transitEncryption": "ENABLED"}}],
)["taskDefinition"]["taskDefinitionArn"]
service = ecs.create_service(
    cluster=cluster,
    serviceName="bdd-bot",
    taskDefinition=task,
    desiredCount=1,
    launchType="FARGATE",
    networkConfiguration={"awsvpcConfiguration": {"subnets": [a, b], "securityGroups": [app_sg], "assignPublicIp": "ENABLED"}},
    loadBalancers=[{"targetGroupArn": tg, "containerName": "bot", "containerPort": 8080}],
)["service"]["serviceArn"]
print(json.dumps({"cluster": cluster, "task_definition": task, "service": service, "vpc": vpc, "subnets": [a, b], "igw": igw, "route_table": rt, "security_groups": [alb_sg, app_sg], "efs": fs, "mount_target": mt, "target_group": tg, "lb": lb, "listener": listener}))
