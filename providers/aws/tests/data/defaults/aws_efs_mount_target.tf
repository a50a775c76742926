resource "aws_vpc" "main" {
  cidr_block = "10.19.0.0/16"
}

resource "aws_subnet" "main" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.19.1.0/24"
  availability_zone = "us-east-1a"
}

resource "aws_efs_file_system" "data" {
  creation_token = "defaults-mount"
}

resource "aws_efs_mount_target" "a" {
  file_system_id = aws_efs_file_system.data.id
  subnet_id      = aws_subnet.main.id
}
