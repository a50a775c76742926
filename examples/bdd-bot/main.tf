# BDD Bot on AWS (seed 000): a React frontend and an Express + Socket.IO backend on ECS Fargate
# behind an application load balancer, the backend's SQLite file on encrypted EFS.

provider "aws" {
  region = var.region

  endpoints {
    ec2   = var.aws_endpoint
    efs   = var.aws_endpoint
    ecs   = var.aws_endpoint
    elbv2 = var.aws_endpoint
    sts   = var.aws_endpoint
  }

  default_tags {
    tags = {
      Project     = "bdd-bot"
      Environment = var.environment
      ManagedBy   = "infra"
    }
  }
}

output "load_balancer_dns_name" {
  value = aws_lb.main.dns_name
}

output "efs_id" {
  value = aws_efs_file_system.sqlite_storage.id
}

output "cluster_arn" {
  value = aws_ecs_cluster.main.arn
}
