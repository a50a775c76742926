"""Makes, by hand, one object of each type whose import id format the bdd-bot example does not
cover: a route added with create-route, an instance, a security group's ingress and egress
rules (sgr- ids), and an instance registered with a target group.

Usage: python import_ids.py ENDPOINT  (prints the import ids as JSON)"""

import json
import sys

import boto3

url = sys.argv[1]
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
ec2 = boto3.client("ec2", **kw)
elb = boto3.client("elbv2", **kw)

vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
ingress = ec2.authorize_security_group_ingress(
    GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "https"}]}]
)["SecurityGroupRules"][0]["SecurityGroupRuleId"]
egress = ec2.authorize_security_group_egress(
    GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.30.0.0/16"}]}]
)["SecurityGroupRules"][0]["SecurityGroupRuleId"]
ami = ec2.describe_images()["Images"][0]["ImageId"]
instance = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=subnet, SecurityGroupIds=[sg])["Instances"][0]["InstanceId"]
tg = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": instance, "Port": 80}])
print(
    json.dumps(
        {
            "aws_route.default": f"{rt}_0.0.0.0/0",
            "aws_instance.web": instance,
            "aws_vpc_security_group_ingress_rule.https": ingress,
            "aws_vpc_security_group_egress_rule.postgres": egress,
            "aws_lb_target_group_attachment.web": f"{tg},{instance},80",
        }
    )
)
