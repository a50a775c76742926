locals {
  create = var.create && length(var.azs) > 0 # nothing without zones

  len_public_subnets = max(
    length(var.public_subnets),
    0,
  )

  # Use `local.vpc_id` to give a hint to Terraform that subnets should be deleted before
  # secondary CIDR blocks can be free!
  vpc_id = try(aws_vpc_ipv4_cidr_block_association.this[0].vpc_id, aws_vpc.this[0].id, "")

  public_subnet_ids = [for s in aws_subnet.public : s.id]
  subnets_by_az     = { for s in aws_subnet.public : s.availability_zone => s.id... }
  enabled_rules = {
    for k, v in var.security_group_rules : k => v
    if v.type == "ingress"
  }

  tags = merge(var.tags, {
    "Name"      = var.name
    "Terraform" = "true"
  })
}

################################################################################
# VPC
################################################################################

resource "aws_vpc" "this" {
  count = local.create ? 1 : 0

  cidr_block           = var.cidr
  enable_dns_hostnames = true # needed for private zones
  enable_dns_support   = true

  tags = merge(
    { "Name" = var.name },
    var.tags,
    {
      Tier = "network"
    },
  )
}

resource "aws_vpc_ipv4_cidr_block_association" "this" {
  count = local.create ? 1 : 0

  vpc_id     = aws_vpc.this[0].id
  cidr_block = cidrsubnet(var.cidr, 4, 15)
}

resource "aws_subnet" "public" {
  count = local.create ? local.len_public_subnets : 0

  availability_zone       = length(regexall("^[a-z]{2}-", element(var.azs, count.index))) > 0 ? element(var.azs, count.index) : null
  cidr_block              = element(concat(var.public_subnets, [""]), count.index)
  map_public_ip_on_launch = false
  vpc_id                  = local.vpc_id

  tags = merge(
    {
      Name = try(
        format("%s-public-%s", var.name, element(var.azs, count.index)),
        "${var.name}-public"
      )
    },
    local.tags,
  )
}

resource "aws_security_group" "this" {
  name_prefix = "${var.name}-"
  description = "Managed by Terraform"
  vpc_id      = local.vpc_id

  dynamic "ingress" {
    for_each = local.enabled_rules

    content {
      description = ingress.value.description
      from_port   = ingress.value.from_port
      to_port     = ingress.value.to_port
      protocol    = ingress.value.protocol
      cidr_blocks = ingress.value.cidr_blocks
    }
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  lifecycle {
    create_before_destroy = true
  }

  timeouts {
    create = try(var.timeouts.create, null)
    delete = try(var.timeouts.delete, null)
  }
}

data "aws_iam_policy_document" "assume" {
  statement {
    sid     = "EC2AssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-role"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = local.tags
}

resource "aws_iam_policy" "logs" {
  name        = "${var.name}-logs"
  description = "Lets the instances write their logs"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "WriteLogs"
        Effect = "Allow"
        Action = [
          "logs:CreateLogStream",
          "logs:PutLogEvents",
        ]
        Resource = ["arn:aws:logs:*:*:log-group:/app/${var.name}:*"]
      },
      {
        Effect   = "Deny"
        Action   = "logs:DeleteLogGroup"
        Resource = "*"
        Condition = {
          StringNotEquals = {
            "aws:PrincipalTag/team" = "platform"
          }
        }
      },
    ]
  })
}

resource "aws_instance" "web" {
  for_each = toset(var.azs)

  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  subnet_id     = local.subnets_by_az[each.key][0]
  user_data     = var.user_data != null ? var.user_data : <<-EOT
    #!/bin/bash
    echo "hello from ${each.key}" > /tmp/hello
      indented {  stays
  EOT

  root_block_device {
    volume_size = 20 # GiB
    encrypted   = true
  }

  metadata_options {
    http_tokens = "required"
  }

  tags = merge(local.tags, { Name = "${var.name}-${each.key}" })
}

/*
  The module below is kept in the repository as an example of
  nesting:   its spacing here is copied as written.
*/
module "sg" {
  source = "./modules/security-group"

  name   = var.name
  vpc_id = local.vpc_id
  rules  = local.enabled_rules
}
