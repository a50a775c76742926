resource "aws_efs_file_system" "data" {
  creation_token = "defaults-efs"
}
