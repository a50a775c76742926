# Monitoring and scaling of seed 000: the 4XX alarm of its guide (`aws cloudwatch
# put-metric-alarm --alarm-name BDD-Bot-High-Error-Rate ...`) and the backend scaled from 2 to 4
# tasks (`aws ecs update-service --desired-count 4`), here by target tracking on CPU.
#
# The guide names the metric "4XXError", which AWS/ApplicationELB does not have (it is API
# Gateway's name): the load balancer reports the 4XX answers of the application as
# HTTPCode_Target_4XX_Count (and its own as HTTPCode_ELB_4XX_Count). The alarm watches the
# application's, with the guide's statistic, period, threshold and evaluation periods.
#
# The backend service ignores changes of its desired_count (ecs.tf), so that a plan does not
# undo what the scaling decided.

resource "aws_cloudwatch_metric_alarm" "high_error_rate" {
  alarm_name          = "BDD-Bot-High-Error-Rate"
  alarm_description   = "High error rate detected"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_4XX_Count"
  statistic           = "Sum"
  period              = 300
  threshold           = var.error_alarm_threshold
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 2
  treat_missing_data  = "notBreaching"

  dimensions = {
    LoadBalancer = aws_lb.main.arn_suffix
  }
}

resource "aws_appautoscaling_target" "backend" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.backend.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.backend_min_tasks
  max_capacity       = var.backend_max_tasks
}

# The guide gives no CPU target; 70 % is AWS's usual starting point for web services.
resource "aws_appautoscaling_policy" "backend_cpu" {
  name               = "bdd-bot-backend-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.backend.service_namespace
  resource_id        = aws_appautoscaling_target.backend.resource_id
  scalable_dimension = aws_appautoscaling_target.backend.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = 70
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}
