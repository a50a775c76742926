variable "region" {
  type    = string
  default = "us-east-1"
}

variable "aws_endpoint" {
  description = "Send every AWS call here (a moto server for tests); null for real AWS."
  type        = string
  default     = null
}

variable "environment" {
  type    = string
  default = "prod"
}

variable "backend_image" {
  description = "The backend image; null: the bdd-bot-backend repository's :latest."
  type        = string
  default     = null
}

variable "frontend_image" {
  description = "The frontend image; null: the bdd-bot-frontend repository's :latest."
  type        = string
  default     = null
}

variable "desired_count" {
  type    = number
  default = 2
}

variable "certificate_arn" {
  description = "ACM certificate for the HTTPS listener; without one, only HTTP is served."
  type        = string
  default     = null
}

variable "deletion_protection" {
  type    = bool
  default = true
}

variable "backup_policy" {
  description = "Daily AWS Backup of the EFS volume that holds the SQLite file."
  type        = bool
  default     = true
}

variable "private_subnet_cidrs" {
  type    = list(string)
  default = ["10.0.11.0/24", "10.0.12.0/24"]
}

variable "jwt_secret" {
  description = "JWT signing secret, stored in Secrets Manager as bdd-bot/jwt (never in the repository)."
  type        = string
  sensitive   = true
}

variable "openai_api_key" {
  description = "OpenAI API key, stored in Secrets Manager as bdd-bot/openai (never in the repository)."
  type        = string
  sensitive   = true
}

variable "log_retention_days" {
  description = "How long CloudWatch Logs keeps the tasks' logs."
  type        = number
  default     = 30
}

variable "ecr_force_delete" {
  description = "Let destroy delete the repositories with their images."
  type        = bool
  default     = false
}

variable "secret_recovery_window_days" {
  description = "Days a destroyed secret can still be restored, its name taken meanwhile (0: deleted at once)."
  type        = number
  default     = 30
}

variable "default_tags" {
  description = "The tags every object carries (null: Project, Environment and ManagedBy; {} for none)."
  type        = map(string)
  default     = null
}

variable "error_alarm_threshold" {
  description = "4XX answers of the application per 5 minutes that raise the alarm (the guide's 10)."
  type        = number
  default     = 10
}

variable "backend_min_tasks" {
  description = "The fewest backend tasks auto scaling keeps (the guide's 2)."
  type        = number
  default     = 2
}

variable "backend_max_tasks" {
  description = "The most backend tasks auto scaling starts (the guide's 4)."
  type        = number
  default     = 4
}
