# Attendee EMS on a Debian VPS (seed 002, VPS half): the backend and its PostgreSQL as a compose
# stack, nginx on the host serving the frontend and proxying /api/ and /socket.io/ to the
# backend over HTTPS (the certificate obtained by certbot on the first apply), UFW, the
# fail2ban sshd and nginx-http-auth jails, a daily pg_dump keeping 30 days, and the certbot
# renewal cron.

provider "vps" {
  host             = var.host
  port             = var.port
  user             = var.user
  private_key_file = var.private_key_file
  host_key         = var.host_key
  sudo             = var.user != "root"
}

resource "random_password" "jwt" {
  length  = 64
  special = false
}

resource "random_password" "jwt_refresh" {
  length  = 64
  special = false
}

resource "random_password" "db" {
  length  = 32
  special = false
}

locals {
  command = var.stand_in_command == null ? "" : "\n    command: ${jsonencode(var.stand_in_command)}"
  backups = var.backups_dir
  webroot = "/var/www/html"
}

resource "vps_directory" "app" {
  for_each = toset([var.app_dir, local.backups, var.frontend_dir])
  path     = each.value
}

resource "vps_compose_stack" "app" {
  count        = var.run_compose ? 1 : 0
  directory    = var.app_dir
  project_name = "attendee"
  compose      = <<-EOT
    services:
      backend:
        image: ${var.images.backend}${local.command}
        ports:
          - "127.0.0.1:3000:3000"
        environment:
          NODE_ENV: production
          PORT: "3000"
          DATABASE_URL: $${DATABASE_URL}
          JWT_SECRET: $${JWT_SECRET}
          JWT_REFRESH_SECRET: $${JWT_REFRESH_SECRET}
          R2_ACCOUNT_ID: $${R2_ACCOUNT_ID}
          R2_ACCESS_KEY: $${R2_ACCESS_KEY}
          R2_SECRET_KEY: $${R2_SECRET_KEY}
          R2_BUCKET_NAME: $${R2_BUCKET_NAME}
          R2_PUBLIC_URL: $${R2_PUBLIC_URL}
        volumes:
          - ./uploads:/app/uploads
        depends_on: [db]
        restart: unless-stopped
      db:
        image: ${var.images.postgres}${local.command}
        environment:
          POSTGRES_DB: attendee_ems
          POSTGRES_PASSWORD: $${POSTGRES_PASSWORD}
        volumes:
          - pgdata:/var/lib/postgresql/data
        restart: unless-stopped
    volumes:
      pgdata:
  EOT
  env = {
    DATABASE_URL       = var.database_url != "" ? var.database_url : "postgresql://postgres:${random_password.db.result}@db:5432/attendee_ems"
    POSTGRES_PASSWORD  = random_password.db.result
    JWT_SECRET         = random_password.jwt.result
    JWT_REFRESH_SECRET = random_password.jwt_refresh.result
    R2_ACCOUNT_ID      = lookup(var.r2, "account_id", "")
    R2_ACCESS_KEY      = lookup(var.r2, "access_key", "")
    R2_SECRET_KEY      = lookup(var.r2, "secret_key", "")
    R2_BUCKET_NAME     = lookup(var.r2, "bucket", "")
    R2_PUBLIC_URL      = lookup(var.r2, "public_url", "")
  }
  depends_on = [vps_directory.app]
}

# HTTP first: the ACME challenge served from the webroot, everything else redirected to HTTPS.
resource "vps_nginx_site" "http" {
  name   = "attendee-http.conf"
  config = <<-EOT
    server {
        listen 80;
        server_name ${var.domain} www.${var.domain};

        location /.well-known/acme-challenge/ {
            root ${local.webroot};
        }

        location / {
            return 301 https://$host$request_uri;
        }
    }
  EOT
}

# certbot, to obtain and renew the certificate (a self-signed certificate needs only openssl).
resource "vps_apt_package" "certbot" {
  count = var.certificate_self_signed ? 0 : 1
  name  = "certbot"
}

# Obtained once, when the host has no certificate for the domain (certbot's webroot method,
# through the HTTP site above); renewed by certbot. certificate_self_signed makes one with
# openssl instead (test hosts). nginx reloads whenever infra makes it (removed by hand, new
# domains), so it serves the new one.
resource "vps_certbot_certificate" "site" {
  domains         = [var.domain, "www.${var.domain}"]
  email           = var.certificate_email
  webroot         = local.webroot
  staging         = var.certificate_staging
  self_signed     = var.certificate_self_signed
  reload_services = ["nginx"]
  depends_on      = [vps_nginx_site.http, vps_apt_package.certbot]

  # A new domain is a new certificate: the HTTPS site moves to it before the old one goes.
  lifecycle {
    create_before_destroy = true
  }
}

# Then HTTPS, with the certificate.
resource "vps_nginx_site" "attendee" {
  name   = "attendee.conf"
  config = <<-EOT
    upstream attendee_backend {
        server 127.0.0.1:3000;
    }

    server {
        listen 443 ssl http2;
        server_name ${var.domain} www.${var.domain};

        ssl_certificate ${vps_certbot_certificate.site.certificate_path};
        ssl_certificate_key ${vps_certbot_certificate.site.private_key_path};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers HIGH:!aNULL:!MD5;

        add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
        add_header X-Frame-Options "SAMEORIGIN" always;
        add_header X-Content-Type-Options "nosniff" always;
        add_header X-XSS-Protection "1; mode=block" always;

        gzip on;
        gzip_types text/plain text/css application/json application/javascript text/xml application/xml;

        location / {
            root ${var.frontend_dir};
            try_files $uri $uri/ /index.html;
            expires 1h;
        }

        location /api/ {
            proxy_pass http://attendee_backend;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection 'upgrade';
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_cache_bypass $http_upgrade;
        }

        location /downloads/ {
            alias ${var.downloads_dir}/;
            autoindex off;
            expires 7d;
        }

        location /socket.io/ {
            proxy_pass http://attendee_backend;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }
    }
  EOT
}

resource "vps_file" "backup_script" {
  path    = "/usr/local/bin/attendee-backup-db.sh"
  mode    = "0750"
  content = <<-EOT
    #!/bin/sh
    # Daily dump of the database, compressed; dumps older than 30 days go.
    set -eu
    date=$(date +%Y-%m-%d_%H-%M-%S)
    cd ${var.app_dir}
    docker compose -p attendee exec -T db pg_dump -U postgres attendee_ems | gzip > "${local.backups}/backup_$date.sql.gz.tmp"
    mv "${local.backups}/backup_$date.sql.gz.tmp" "${local.backups}/backup_$date.sql.gz"
    find ${local.backups} -name "backup_*.sql.gz" -mtime +30 -delete
  EOT
}

resource "vps_cron_job" "backup" {
  name     = "attendee-backup"
  schedule = "0 2 * * *"
  command  = "${vps_file.backup_script.path} >> /var/log/attendee-backup.log 2>&1"
}

resource "vps_cron_job" "certbot_renew" {
  name     = "certbot-renew"
  schedule = "0 3 * * *"
  command  = "certbot renew --quiet --post-hook \"systemctl reload nginx\""
}

resource "vps_file" "fail2ban_jails" {
  path            = "/etc/fail2ban/jail.d/attendee.local"
  reload_services = ["fail2ban"]
  content         = <<-EOT
    [sshd]
    enabled = true
    port = ssh
    filter = sshd
    # Debian 12 logs sshd to the journal (no /var/log/auth.log without rsyslog).
    backend = systemd
    maxretry = 5
    bantime = 3600

    [nginx-http-auth]
    enabled = true
    filter = nginx-http-auth
    port = http,https
    logpath = /var/log/nginx/error.log
    maxretry = 5
    bantime = 600
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

output "url" {
  value = "https://${var.domain}"
}
