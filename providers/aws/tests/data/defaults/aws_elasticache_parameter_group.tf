resource "aws_elasticache_parameter_group" "main" {
  name   = "defaults-cache"
  family = "redis7"
}
