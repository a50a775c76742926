resource "aws_vpc" "main" {
  cidr_block = "10.22.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.22.1.0/24"
  availability_zone = "us-east-1a"
}

resource "aws_subnet" "b" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.22.2.0/24"
  availability_zone = "us-east-1b"
}

resource "aws_security_group" "lb" {
  name   = "defaults-tg"
  vpc_id = aws_vpc.main.id
}

resource "aws_lb_target_group" "web" {
  name     = "defaults-tg"
  port     = 80
  protocol = "HTTP"
  vpc_id   = aws_vpc.main.id
}
