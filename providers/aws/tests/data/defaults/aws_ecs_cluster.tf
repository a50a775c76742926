resource "aws_ecs_cluster" "main" {
  name = "defaults-cluster"
}
