# GW2 WvW Builder on a Debian VPS (seed 004): the FastAPI backend as a systemd unit running as
# its own account behind nginx (HTTPS with a certificate certbot obtains on the first apply,
# /api/ proxied, static frontend, /health), a weekly SQLite backup, logrotate for 14 days,
# certbot renewals, and UFW allowing SSH, HTTP and HTTPS only.

provider "vps" {
  host             = var.host
  port             = var.port
  user             = var.user
  private_key_file = var.private_key_file
  host_key         = var.host_key
  sudo             = var.user != "root"
}

locals {
  app_dir     = coalesce(var.app_dir, "/home/${var.app_user}/GW2_WvWbuilder")
  backend_dir = "${local.app_dir}/backend"
  backups_dir = "${local.app_dir}/backups"
  webroot     = "/var/www/html"
}

# The account the backend runs as, with its own group and home.
resource "vps_group" "app" {
  name = var.app_user
}

resource "vps_user" "app" {
  name  = var.app_user
  gid   = vps_group.app.gid
  home  = "/home/${var.app_user}"
  shell = "/bin/bash"
}

resource "vps_directory" "app" {
  for_each = toset([local.app_dir, local.backend_dir, local.backups_dir, "${local.app_dir}/scripts", "${local.app_dir}/frontend", "${local.app_dir}/frontend/dist"])
  path     = each.value
  owner    = vps_user.app.name
  group    = vps_group.app.name
}

resource "vps_systemd_unit" "backend" {
  name    = "gw2-backend.service"
  content = <<-EOT
    [Unit]
    Description=GW2 WvW Builder Backend Service
    After=network.target

    [Service]
    Type=simple
    User=${vps_user.app.name}
    WorkingDirectory=${local.backend_dir}
    ExecStart=${var.backend_command}

    # Auto-restart
    Restart=always
    RestartSec=10

    # Resource limits
    MemoryMax=1G
    CPUQuota=200%

    [Install]
    WantedBy=multi-user.target
  EOT

  depends_on = [vps_directory.app]
}

# HTTP first: the ACME challenge served from the webroot, everything else redirected to HTTPS.
resource "vps_nginx_site" "http" {
  name   = "gw2-wvwbuilder-http.conf"
  config = <<-EOT
    server {
        listen 80;
        listen [::]:80;
        server_name ${var.domain};

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
  domains         = [var.domain]
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
resource "vps_nginx_site" "gw2" {
  name   = "gw2-wvwbuilder.conf"
  config = <<-EOT
    server {
        listen 443 ssl http2;
        listen [::]:443 ssl http2;
        server_name ${var.domain};

        ssl_certificate ${vps_certbot_certificate.site.certificate_path};
        ssl_certificate_key ${vps_certbot_certificate.site.private_key_path};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers HIGH:!aNULL:!MD5;

        add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
        add_header X-Frame-Options "SAMEORIGIN" always;
        add_header X-Content-Type-Options "nosniff" always;
        add_header X-XSS-Protection "1; mode=block" always;
        add_header Referrer-Policy "no-referrer-when-downgrade" always;

        gzip on;
        gzip_types text/plain text/css application/json application/javascript;

        access_log /var/log/nginx/gw2-builder-access.log;
        error_log /var/log/nginx/gw2-builder-error.log;

        root ${local.app_dir}/frontend/dist;
        index index.html;

        location / {
            try_files $uri $uri/ /index.html;
        }

        location ~* \.(js|css|png|jpg|svg|woff2?)$ {
            expires 30d;
            add_header Cache-Control "public, immutable";
        }

        location /api/ {
            proxy_pass http://127.0.0.1:8000;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }

        location /docs {
            proxy_pass http://127.0.0.1:8000/docs;
        }

        location = /health {
            proxy_pass http://127.0.0.1:8000/api/v1/health;
        }
    }
  EOT
}

resource "vps_file" "backup_script" {
  path    = "${local.app_dir}/scripts/backup_database.sh"
  mode    = "0755"
  owner   = vps_user.app.name
  group   = vps_group.app.name
  content = <<-EOT
    #!/bin/sh
    # Weekly SQLite backup: a consistent copy, checked, replacing the previous one.
    set -eu
    db="${local.backend_dir}/gw2_wvwbuilder.db"
    out="${local.backups_dir}/gw2_wvwbuilder.db.backup"
    log="${local.backups_dir}/backup.log"
    if command -v sqlite3 >/dev/null; then
      sqlite3 "$db" ".backup '$out.tmp'"
      test "$(sqlite3 "$out.tmp" 'PRAGMA integrity_check;')" = ok
    else
      cp "$db" "$out.tmp"
    fi
    mv "$out.tmp" "$out"
    echo "$(date -Is) backup ok" >> "$log"
  EOT

  depends_on = [vps_directory.app]
}

resource "vps_cron_job" "backup" {
  name     = "gw2-backup"
  schedule = "0 2 * * 0"
  user     = vps_user.app.name
  command  = "${vps_file.backup_script.path} >> ${local.backups_dir}/cron.log 2>&1"
}

resource "vps_file" "logrotate" {
  path    = "/etc/logrotate.d/gw2-backend"
  content = <<-EOT
    ${local.app_dir}/backend.log {
        daily
        rotate 14
        missingok
        notifempty
        compress
        delaycompress
        copytruncate
    }
  EOT
}

resource "vps_cron_job" "certbot_renew" {
  name     = "certbot-renew"
  schedule = "0 0,12 * * *"
  command  = "certbot renew --quiet --deploy-hook 'systemctl reload nginx'"
}

resource "vps_ufw_rule" "allowed" {
  for_each = { ssh = tostring(var.port), http = "80", https = "443" }
  port     = each.value
  comment  = each.key
}

resource "vps_ufw" "firewall" {
  default_incoming = "deny"
  default_outgoing = "allow"
  depends_on       = [vps_ufw_rule.allowed]
}

output "url" {
  value = "https://${var.domain}"
}
