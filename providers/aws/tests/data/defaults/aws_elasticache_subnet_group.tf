resource "aws_vpc" "main" {
  cidr_block = "10.23.0.0/16"
}

resource "aws_subnet" "main" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.23.1.0/24"
}

resource "aws_elasticache_subnet_group" "main" {
  name       = "defaults-cache"
  subnet_ids = [aws_subnet.main.id]
}
