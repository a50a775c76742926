resource "aws_elasticache_replication_group" "main" {
  replication_group_id = "defaults-cache"
  description          = "defaults"
  node_type            = "cache.t4g.micro"
}
