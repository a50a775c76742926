resource "aws_secretsmanager_secret" "defaults" {
  name = "defaults/secret"
}
