variable "environment" {
  description = "production (REGIONAL, two zones) or staging (ZONAL); by default the workspace's: `infra workspace select staging` is staging, the default workspace production."
  type        = string
  default     = null
  validation {
    condition     = contains(["production", "staging"], coalesce(var.environment, "production"))
    error_message = "environment is production or staging."
  }
}

variable "instance_name" {
  description = "The Cloud SQL instance name (by default attendee-ems-db in production, attendee-ems-staging-db in staging); Cloud SQL keeps a deleted instance's name for about a week."
  type        = string
  default     = null
}

variable "tier" {
  description = "The machine type: 2 vCPU and 7.5 GB by default."
  type        = string
  default     = "db-custom-2-7680"
}

variable "database_name" {
  type    = string
  default = "attendee"
}

variable "database_user" {
  type    = string
  default = "attendee"
}

variable "backup_start_time" {
  description = "When the daily backup starts (UTC, HH:MM)."
  type        = string
  default     = "03:00"
}

variable "vps_cidr" {
  description = "The VPS's public address as a CIDR (203.0.113.7/32), allowed to connect; none when null."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Refuse to destroy the instance (a destroy stops at plan time, before anything is deleted)."
  type        = bool
  default     = true
}
