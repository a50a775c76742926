# The application's secrets in Secrets Manager (the guide's `bdd-bot/jwt` and `bdd-bot/openai`).
# Their values come from sensitive variables (`--var`, INFRA_VAR_jwt_secret, a .tfvars file kept
# out of the repository): never from this repository, never printed by plan, apply or show.
# A destroyed secret can be restored for `secret_recovery_window_days` (30) days, and its name
# stays taken meanwhile; 0 deletes it at once.

resource "aws_secretsmanager_secret" "jwt" {
  name                    = "bdd-bot/jwt"
  description             = "JWT secret for BDD Bot"
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "jwt" {
  secret_id     = aws_secretsmanager_secret.jwt.id
  secret_string = var.jwt_secret
}

resource "aws_secretsmanager_secret" "openai" {
  name                    = "bdd-bot/openai"
  description             = "OpenAI API credentials"
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "openai" {
  secret_id     = aws_secretsmanager_secret.openai.id
  secret_string = var.openai_api_key
}
