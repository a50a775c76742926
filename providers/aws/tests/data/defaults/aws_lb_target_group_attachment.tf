resource "aws_vpc" "main" {
  cidr_block = "10.25.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.25.1.0/24"
  availability_zone = "us-east-1a"
}

resource "aws_subnet" "b" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.25.2.0/24"
  availability_zone = "us-east-1b"
}

resource "aws_security_group" "lb" {
  name   = "defaults-attach"
  vpc_id = aws_vpc.main.id
}

resource "aws_lb_target_group" "web" {
  name     = "defaults-attach"
  port     = 80
  protocol = "HTTP"
  vpc_id   = aws_vpc.main.id
}

data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = ["099720109477"]

  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd/ubuntu-*"]
  }
}

resource "aws_instance" "web" {
  ami           = data.aws_ami.ubuntu.id
  instance_type = "t3.micro"
  subnet_id     = aws_subnet.a.id
}

resource "aws_lb_target_group_attachment" "web" {
  target_group_arn = aws_lb_target_group.web.arn
  target_id        = aws_instance.web.id
  port             = 80
}
