# Container registries for the two images (the guide's `aws ecr create-repository`), scanned on
# push, tags immutable so a deployed tag always names the same image, and a lifecycle policy
# that keeps the last 20 images of each.

locals {
  apps = toset(["backend", "frontend"])
}

resource "aws_ecr_repository" "app" {
  for_each             = local.apps
  name                 = "bdd-bot-${each.key}"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.ecr_force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }
}

resource "aws_ecr_lifecycle_policy" "app" {
  for_each   = local.apps
  repository = aws_ecr_repository.app[each.key].name

  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the last 20 images"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = 20
      }
      action = { type = "expire" }
    }]
  })
}
