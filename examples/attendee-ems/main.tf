# Attendee EMS production database (seed 002): Cloud SQL for PostgreSQL 16 holding the
# `attendee` database, daily backups at 03:00 with point-in-time recovery and 7 days of
# transaction logs, SSL required, reachable from the VPS. The project, region and credentials
# come from the environment (GOOGLE_PROJECT, GOOGLE_REGION, GOOGLE_APPLICATION_CREDENTIALS;
# GOOGLE_SQL_CUSTOM_ENDPOINT for the local emulator).

provider "google" {
  default_labels = {
    app = "attendee-ems"
  }
}

locals {
  # The environment is the workspace's unless set: staging and production are two workspaces
  # of one stack, each with its own state and its own instance.
  environment   = coalesce(var.environment, terraform.workspace == "default" ? "production" : terraform.workspace)
  instance_name = coalesce(var.instance_name, local.environment == "production" ? "attendee-ems-db" : "attendee-ems-${local.environment}-db")
}

resource "google_sql_database_instance" "main" {
  name                = local.instance_name
  database_version    = "POSTGRES_16"
  deletion_protection = var.deletion_protection

  settings {
    tier              = var.tier
    edition           = "ENTERPRISE"
    availability_type = local.environment == "production" ? "REGIONAL" : "ZONAL"
    disk_size         = 20
    disk_type         = "PD_SSD"
    user_labels = {
      environment = local.environment
    }

    backup_configuration {
      enabled                        = true
      start_time                     = var.backup_start_time
      point_in_time_recovery_enabled = true
      transaction_log_retention_days = 7
      backup_retention_settings {
        retained_backups = 30
      }
    }

    ip_configuration {
      ipv4_enabled = true
      ssl_mode     = "ENCRYPTED_ONLY"
      dynamic "authorized_networks" {
        for_each = var.vps_cidr == null ? [] : [var.vps_cidr]
        content {
          name  = "vps"
          value = authorized_networks.value
        }
      }
    }

    maintenance_window {
      day  = 7
      hour = 4
    }
  }
}

resource "google_sql_database" "attendee" {
  name     = var.database_name
  instance = google_sql_database_instance.main.name
}

resource "random_password" "attendee" {
  length  = 32
  special = false
}

resource "google_sql_user" "attendee" {
  name     = var.database_user
  instance = google_sql_database_instance.main.name
  password = random_password.attendee.result
}

output "connection_name" {
  value = google_sql_database_instance.main.connection_name
}

output "public_ip_address" {
  value = google_sql_database_instance.main.public_ip_address
}

# The seed's DATABASE_URL, for the backend's .env (examples/attendee-ems-vps takes it as
# its database_url variable).
output "database_url" {
  value     = "postgresql://${google_sql_user.attendee.name}:${urlencode(random_password.attendee.result)}@${google_sql_database_instance.main.public_ip_address}:5432/${google_sql_database.attendee.name}?schema=public&sslmode=require"
  sensitive = true
}
