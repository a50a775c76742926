resource "aws_vpc" "main" {
  cidr_block = "10.18.0.0/16"
}

resource "aws_security_group" "web" {
  name   = "defaults-egress"
  vpc_id = aws_vpc.main.id
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.web.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
}
