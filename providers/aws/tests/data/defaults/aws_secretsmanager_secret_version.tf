resource "aws_secretsmanager_secret" "for_version" {
  name = "defaults/versioned"
}

resource "aws_secretsmanager_secret_version" "defaults" {
  secret_id     = aws_secretsmanager_secret.for_version.id
  secret_string = "not-a-real-secret"
}
