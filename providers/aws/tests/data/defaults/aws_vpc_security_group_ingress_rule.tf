resource "aws_vpc" "main" {
  cidr_block = "10.17.0.0/16"
}

resource "aws_security_group" "web" {
  name   = "defaults-ingress"
  vpc_id = aws_vpc.main.id
}

resource "aws_vpc_security_group_ingress_rule" "https" {
  security_group_id = aws_security_group.web.id
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
}
