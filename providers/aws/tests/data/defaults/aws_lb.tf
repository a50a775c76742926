resource "aws_vpc" "main" {
  cidr_block = "10.21.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.21.1.0/24"
  availability_zone = "us-east-1a"
}

resource "aws_subnet" "b" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.21.2.0/24"
  availability_zone = "us-east-1b"
}

resource "aws_security_group" "lb" {
  name   = "defaults-lb"
  vpc_id = aws_vpc.main.id
}

resource "aws_lb" "web" {
  name               = "defaults-lb"
  load_balancer_type = "application"
  security_groups    = [aws_security_group.lb.id]
  subnets            = [aws_subnet.a.id, aws_subnet.b.id]
}
