# ECS cluster with Container Insights, the backend and frontend as Fargate services behind the
# load balancer's target groups. The tasks pull their images from the ECR repositories, log to
# CloudWatch Logs with `awslogs`, and the backend gets JWT_SECRET and OPENAI_API_KEY from
# Secrets Manager (`secrets`), all through the task execution role (iam.tf).

resource "aws_ecs_cluster" "main" {
  name = local.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_task_definition" "backend" {
  family                   = "bdd-bot-backend"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "512"
  memory                   = "1024"
  execution_role_arn       = aws_iam_role.task_execution.arn

  container_definitions = jsonencode([
    {
      name      = "backend"
      image     = coalesce(var.backend_image, "${aws_ecr_repository.app["backend"].repository_url}:latest")
      essential = true
      portMappings = [
        { containerPort = 3001, protocol = "tcp" }
      ]
      environment = [
        { name = "NODE_ENV", value = "production" },
        { name = "PORT", value = "3001" },
        { name = "DATABASE_PATH", value = "/data/bdd-bot.sqlite" },
      ]
      secrets = [
        { name = "JWT_SECRET", valueFrom = aws_secretsmanager_secret.jwt.arn },
        { name = "OPENAI_API_KEY", valueFrom = aws_secretsmanager_secret.openai.arn },
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = aws_cloudwatch_log_group.app["backend"].name
          "awslogs-region"        = var.region
          "awslogs-stream-prefix" = "backend"
        }
      }
      mountPoints = [
        { sourceVolume = "sqlite-data", containerPath = "/data" }
      ]
      healthCheck = {
        command  = ["CMD-SHELL", "curl -f http://localhost:3001/health || exit 1"]
        interval = 30
        timeout  = 5
        retries  = 3
      }
    }
  ])

  volume {
    name = "sqlite-data"

    efs_volume_configuration {
      file_system_id     = aws_efs_file_system.sqlite_storage.id
      root_directory     = "/"
      transit_encryption = "ENABLED"
    }
  }
}

resource "aws_ecs_task_definition" "frontend" {
  family                   = "bdd-bot-frontend"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = aws_iam_role.task_execution.arn

  container_definitions = jsonencode([
    {
      name         = "frontend"
      image        = coalesce(var.frontend_image, "${aws_ecr_repository.app["frontend"].repository_url}:latest")
      essential    = true
      portMappings = [{ containerPort = 8080 }]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = aws_cloudwatch_log_group.app["frontend"].name
          "awslogs-region"        = var.region
          "awslogs-stream-prefix" = "frontend"
        }
      }
    }
  ])
}

resource "aws_ecs_service" "backend" {
  name            = "bdd-bot-backend"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.backend.arn
  desired_count   = var.desired_count
  launch_type     = "FARGATE"

  deployment_minimum_healthy_percent = 50
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = 60

  network_configuration {
    subnets         = aws_subnet.private[*].id
    security_groups = [aws_security_group.tasks.id]
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.backend.arn
    container_name   = "backend"
    container_port   = 3001
  }

  # The EFS mount targets must exist before a task can mount the volume.
  depends_on = [aws_efs_mount_target.sqlite_storage, aws_lb_listener_rule.backend]

  # Auto scaling (monitoring.tf) sets the task count between its bounds: a plan must not undo
  # what it decided.
  lifecycle {
    ignore_changes = [desired_count]
  }
}

resource "aws_ecs_service" "frontend" {
  name            = "bdd-bot-frontend"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.frontend.arn
  desired_count   = var.desired_count
  launch_type     = "FARGATE"

  network_configuration {
    subnets         = aws_subnet.private[*].id
    security_groups = [aws_security_group.tasks.id]
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.frontend.arn
    container_name   = "frontend"
    container_port   = 8080
  }

  depends_on = [aws_lb_listener.http]
}
