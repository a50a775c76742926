# The tasks' logs (the guide's `aws logs tail /ecs/bdd-bot-backend`): one group per service,
# kept `log_retention_days` days.

resource "aws_cloudwatch_log_group" "app" {
  for_each          = local.apps
  name              = "/ecs/bdd-bot-${each.key}"
  retention_in_days = var.log_retention_days
}
