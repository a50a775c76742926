# FinaiFlow on a Debian VPS with Docker (seed 003): the compose stack in /opt/finaiflow (api,
# postgres, redis, nginx), its .env with a generated SECRET_KEY and database password, UFW, the
# fail2ban nginx-limit-req jail, a daily 02:00 database backup and a 03:00 cleanup of backups
# older than 30 days.

provider "vps" {
  host             = var.host
  port             = var.port
  user             = var.user
  private_key_file = var.private_key_file
  host_key         = var.host_key
  sudo             = var.user != "root"
}

resource "random_password" "secret_key" {
  length  = 50
  special = false
}

resource "random_password" "db" {
  length  = 32
  special = false
}

locals {
  command = var.stand_in_command == null ? "" : "\n    command: ${jsonencode(var.stand_in_command)}"
  backups = "${var.app_dir}/backups"
}

resource "vps_directory" "app" {
  path = var.app_dir
}

resource "vps_directory" "sub" {
  for_each   = toset(["backups", "scripts"])
  path       = "${var.app_dir}/${each.key}"
  depends_on = [vps_directory.app]
}

resource "vps_compose_stack" "app" {
  count        = var.run_compose ? 1 : 0
  directory    = var.app_dir
  project_name = "finaiflow"
  compose      = <<-EOT
    services:
      api:
        image: ${var.images.api}${local.command}
        env_file: .env
        depends_on: [postgres, redis]
        restart: unless-stopped
      postgres:
        image: ${var.images.postgres}${local.command}
        environment:
          POSTGRES_USER: finaiflow_user
          POSTGRES_DB: finaiflow_db
          POSTGRES_PASSWORD: $${POSTGRES_PASSWORD}
        volumes:
          - pgdata:/var/lib/postgresql/data
        restart: unless-stopped
      redis:
        image: ${var.images.redis}${local.command}
        restart: unless-stopped
      nginx:
        image: ${var.images.nginx}${local.command}
        ports:
          - "${var.http_port}:80"
          - "${var.https_port}:443"
        volumes:
          - /var/log/nginx:/var/log/nginx
        depends_on: [api]
        restart: unless-stopped
    volumes:
      pgdata:
  EOT
  env = {
    SECRET_KEY        = random_password.secret_key.result
    ENVIRONMENT       = "production"
    DATABASE_URL      = "postgresql+asyncpg://finaiflow_user:${random_password.db.result}@postgres:5432/finaiflow_db"
    POSTGRES_PASSWORD = random_password.db.result
    ALLOWED_HOSTS     = "${var.domain},www.${var.domain}"
    CORS_ORIGINS      = "https://${var.domain}"
  }
  depends_on = [vps_directory.sub]
}

resource "vps_file" "backup_script" {
  path       = "${var.app_dir}/scripts/database_backup.sh"
  mode       = "0750"
  content    = <<-EOT
    #!/bin/sh
    # Daily dump of the database, from the postgres service of the stack.
    set -eu
    cd ${var.app_dir}
    out="${local.backups}/finaiflow_$(date +%Y-%m-%d_%H%M).sql"
    docker compose -p finaiflow exec -T postgres pg_dump -U finaiflow_user finaiflow_db > "$out.tmp"
    mv "$out.tmp" "$out"
  EOT
  depends_on = [vps_directory.sub]
}

resource "vps_cron_job" "backup" {
  name     = "finaiflow-backup"
  schedule = "0 2 * * *"
  command  = "${vps_file.backup_script.path} >> ${local.backups}/backup.log 2>&1"
}

resource "vps_cron_job" "cleanup" {
  name     = "finaiflow-backup-cleanup"
  schedule = "0 3 * * *"
  command  = "find ${local.backups} -name '*.sql' -mtime +30 -delete"
}

resource "vps_file" "fail2ban_jail" {
  path            = "/etc/fail2ban/jail.d/finaiflow.local"
  reload_services = ["fail2ban"]
  content         = <<-EOT
    # Debian 12 has no /var/log/auth.log without rsyslog: the default sshd jail reads the
    # journal, or fail2ban does not start at all.
    [sshd]
    backend = systemd

    [nginx-limit-req]
    enabled = true
    filter = nginx-limit-req
    logpath = /var/log/nginx/error.log
    maxretry = 10
    findtime = 60
    bantime = 3600
  EOT
}

resource "vps_ufw_rule" "allowed" {
  for_each = { ssh = tostring(var.port), http = "80", https = "443" }
  port     = each.value
  comment  = each.key
}

resource "vps_ufw" "firewall" {
  depends_on = [vps_ufw_rule.allowed]
}
