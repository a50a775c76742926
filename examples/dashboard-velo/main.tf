# Dashboard-Velo on AWS (seed 001): three Ubuntu 22.04 app servers (Node.js under PM2 on port
# 3000, 50 GB gp3 root volumes) spread over availability zones behind an application load
# balancer that redirects HTTP to HTTPS and checks /health. Only the load balancer reaches port
# 3000. The Redis cache (ElastiCache: one primary and two replicas, cache.m5.large,
# volatile-lru eviction) lives in private subnets that only the servers reach.

variable "region" {
  type    = string
  default = "eu-west-3"
}

variable "aws_endpoint" {
  description = "Send every AWS call here (a moto server for tests); null for real AWS."
  type        = string
  default     = null
}

variable "certificate_arn" {
  description = "ACM certificate of the dashboard's domain, for the HTTPS listener."
  type        = string
}

variable "instance_type" {
  type    = string
  default = "t3.medium"
}

variable "app_servers" {
  type    = number
  default = 3
}

variable "ssh_cidr" {
  description = "Who may SSH to the servers (deployments run PM2 over SSH)."
  type        = string
  default     = "10.20.0.0/16"
}

variable "ami_name" {
  description = "Name pattern of the Canonical image (Ubuntu 22.04 LTS)."
  type        = string
  default     = "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"
}

variable "key_name" {
  type    = string
  default = null
}

variable "root_volume_size" {
  description = "GB of SSD (gp3) per app server."
  type        = number
  default     = 50
}

variable "redis_node_type" {
  type    = string
  default = "cache.m5.large"
}

variable "redis_maxmemory_policy" {
  description = "Redis eviction policy, in the cache's own parameter group; null keeps AWS's default group (moto cannot make parameter groups)."
  type        = string
  default     = "volatile-lru"
}

provider "aws" {
  region = var.region

  endpoints {
    ec2         = var.aws_endpoint
    elbv2       = var.aws_endpoint
    elasticache = var.aws_endpoint
  }

  default_tags {
    tags = {
      Project   = "dashboard-velo"
      ManagedBy = "infra"
    }
  }
}

data "aws_availability_zones" "available" {
  state = "available"
}

data "aws_ami" "ubuntu" {
  owners      = ["099720109477"] # Canonical
  most_recent = true

  filter {
    name   = "name"
    values = [var.ami_name]
  }
}

locals {
  zones = slice(data.aws_availability_zones.available.names, 0, 3)
}

resource "aws_vpc" "main" {
  cidr_block           = "10.20.0.0/16"
  enable_dns_hostnames = true

  tags = {
    Name = "dashboard-velo"
  }
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id
}

resource "aws_subnet" "public" {
  count                   = 3
  vpc_id                  = aws_vpc.main.id
  cidr_block              = cidrsubnet(aws_vpc.main.cidr_block, 8, count.index)
  availability_zone       = local.zones[count.index]
  map_public_ip_on_launch = true

  tags = {
    Name = "dashboard-velo-public-${count.index + 1}"
  }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
}

resource "aws_route" "internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.main.id
}

resource "aws_route_table_association" "public" {
  count          = 3
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_security_group" "alb" {
  name        = "dashboard-velo-alb"
  description = "HTTP and HTTPS from the internet"
  vpc_id      = aws_vpc.main.id

  ingress {
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "app" {
  name        = "dashboard-velo-app"
  description = "Port 3000 from the load balancer only; SSH from the deploy network"
  vpc_id      = aws_vpc.main.id

  ingress {
    description     = "Node.js (PM2)"
    from_port       = 3000
    to_port         = 3000
    protocol        = "tcp"
    security_groups = [aws_security_group.alb.id]
  }

  ingress {
    description = "SSH"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [var.ssh_cidr]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_instance" "app" {
  count                  = var.app_servers
  ami                    = data.aws_ami.ubuntu.id
  instance_type          = var.instance_type
  subnet_id              = aws_subnet.public[count.index % 3].id
  vpc_security_group_ids = [aws_security_group.app.id]
  key_name               = var.key_name

  root_block_device {
    volume_size = var.root_volume_size
    volume_type = "gp3"
    encrypted   = true
  }

  tags = {
    Name = "dashboard-velo-app-${count.index + 1}"
    Role = "app"
  }
}

resource "aws_lb" "main" {
  name               = "dashboard-velo"
  load_balancer_type = "application"
  security_groups    = [aws_security_group.alb.id]
  subnets            = aws_subnet.public[*].id
}

resource "aws_lb_target_group" "app" {
  name     = "dashboard-velo-app"
  port     = 3000
  protocol = "HTTP"
  vpc_id   = aws_vpc.main.id

  health_check {
    path                = "/health"
    healthy_threshold   = 2
    unhealthy_threshold = 3
    interval            = 15
  }
}

resource "aws_lb_target_group_attachment" "app" {
  count            = var.app_servers
  target_group_arn = aws_lb_target_group.app.arn
  target_id        = aws_instance.app[count.index].id
  port             = 3000
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.main.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}

# --- Redis (ElastiCache) -------------------------------------------------------------------

resource "aws_subnet" "private" {
  count             = 3
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet(aws_vpc.main.cidr_block, 8, count.index + 10)
  availability_zone = local.zones[count.index]

  tags = {
    Name = "dashboard-velo-private-${count.index + 1}"
  }
}

resource "aws_security_group" "redis" {
  name        = "dashboard-velo-redis"
  description = "Redis from the app servers only"
  vpc_id      = aws_vpc.main.id

  ingress {
    description     = "Redis"
    from_port       = 6379
    to_port         = 6379
    protocol        = "tcp"
    security_groups = [aws_security_group.app.id]
  }
}

resource "aws_elasticache_subnet_group" "redis" {
  name       = "dashboard-velo-redis"
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_elasticache_parameter_group" "redis" {
  count  = var.redis_maxmemory_policy == null ? 0 : 1
  name   = "dashboard-velo-redis7"
  family = "redis7"

  parameter {
    name  = "maxmemory-policy"
    value = var.redis_maxmemory_policy
  }
}

# "RDB every 60 minutes" is no ElastiCache setting: Redis's own `save` schedule is not
# modifiable there. ElastiCache takes one automatic snapshot (RDB) a day in snapshot_window
# and keeps snapshot_retention_limit days of them; the two replicas in other zones, with
# automatic failover, are what keeps the data of the last hour.
resource "aws_elasticache_replication_group" "redis" {
  replication_group_id       = "dashboard-velo-redis"
  description                = "Dashboard-Velo cache and sessions"
  engine                     = "redis"
  engine_version             = "7.1"
  node_type                  = var.redis_node_type
  num_cache_clusters         = 3
  automatic_failover_enabled = true
  multi_az_enabled           = true
  parameter_group_name       = var.redis_maxmemory_policy == null ? "default.redis7" : aws_elasticache_parameter_group.redis[0].name
  subnet_group_name          = aws_elasticache_subnet_group.redis.name
  security_group_ids         = [aws_security_group.redis.id]
  snapshot_retention_limit   = 7
  snapshot_window            = "03:00-04:00"
  maintenance_window         = "sun:04:30-sun:05:30"
  apply_immediately          = true
}

output "redis_endpoint" {
  description = "REDIS_HOST of the app servers' environment."
  value       = aws_elasticache_replication_group.redis.primary_endpoint_address
}

output "url" {
  value = "https://${aws_lb.main.dns_name}"
}

output "app_server_ips" {
  value = aws_instance.app[*].private_ip
}
