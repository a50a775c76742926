resource "aws_vpc" "main" {
  cidr_block = "10.16.0.0/16"
}

resource "aws_security_group" "web" {
  name        = "defaults-web"
  description = "Web"
  vpc_id      = aws_vpc.main.id

  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
