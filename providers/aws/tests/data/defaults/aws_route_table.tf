resource "aws_vpc" "main" {
  cidr_block = "10.13.0.0/16"
}

resource "aws_route_table" "main" {
  vpc_id = aws_vpc.main.id
}
