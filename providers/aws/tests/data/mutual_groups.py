"""Makes, by hand, two security groups that admit each other (the database from the app on
5432, the app from the database on 8080) in a VPC: inline rules cannot say that in Terraform
without a cycle.

Usage: python mutual_groups.py ENDPOINT  (prints the ids as JSON)"""

import json
import sys

import boto3

url = sys.argv[1]
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
ec2 = boto3.client("ec2", **kw)


def name(kind, value):
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": value}]}]


vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16", TagSpecifications=name("vpc", "mesh"))["Vpc"]["VpcId"]


def group(n):
    return ec2.create_security_group(GroupName=n, Description=n, VpcId=vpc, TagSpecifications=name("security-group", n))["GroupId"]


app = group("mesh-app")
db = group("mesh-db")
ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": app}]}])
ec2.authorize_security_group_ingress(GroupId=app, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": db}]}])
print(json.dumps({"vpc": vpc, "app": app, "db": db}))
