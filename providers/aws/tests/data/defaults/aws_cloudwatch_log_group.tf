resource "aws_cloudwatch_log_group" "defaults" {
  name = "/defaults/logs"
}
