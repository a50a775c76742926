# BDD Bot on AWS (seed 000): a React frontend and an Express + Socket.IO backend on ECS Fargate
# behind an application load balancer, the backend's SQLite file on encrypted EFS.

provider "aws" {
  region = var.region

  # One endpoint for every service (moto in tests); IAM is global, whatever the region.
  endpoints {
    ec2            = var.aws_endpoint
    efs            = var.aws_endpoint
    ecs            = var.aws_endpoint
    elbv2          = var.aws_endpoint
    sts            = var.aws_endpoint
    iam            = var.aws_endpoint
    logs           = var.aws_endpoint
    ecr            = var.aws_endpoint
    secretsmanager = var.aws_endpoint
    cloudwatch     = var.aws_endpoint

    applicationautoscaling = var.aws_endpoint
  }

  # Every object carries these tags, unless var.default_tags says otherwise ({} for none: moto
  # has no tagging API for Application Auto Scaling).
  default_tags {
    tags = var.default_tags != null ? var.default_tags : {
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

output "backend_repository_url" {
  value = aws_ecr_repository.app["backend"].repository_url
}

output "frontend_repository_url" {
  value = aws_ecr_repository.app["frontend"].repository_url
}

output "task_execution_role_arn" {
  value = aws_iam_role.task_execution.arn
}
