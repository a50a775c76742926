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
  type    = string
  default = "123456789012.dkr.ecr.us-east-1.amazonaws.com/bdd-bot-backend:latest"
}

variable "frontend_image" {
  type    = string
  default = "123456789012.dkr.ecr.us-east-1.amazonaws.com/bdd-bot-frontend:latest"
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
