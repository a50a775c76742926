resource "aws_ecr_repository" "for_policy" {
  name = "defaults-policy-repo"
}

resource "aws_ecr_lifecycle_policy" "defaults" {
  repository = aws_ecr_repository.for_policy.name
  policy = jsonencode({
    rules = [{ rulePriority = 1, selection = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 14 }, action = { type = "expire" } }]
  })
}
