resource "aws_vpc" "main" {
  cidr_block = "10.12.0.0/16"
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id
}
