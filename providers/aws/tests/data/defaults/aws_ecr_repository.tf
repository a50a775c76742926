resource "aws_ecr_repository" "defaults" {
  name = "defaults-repo"
}
