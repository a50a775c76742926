//! The vps provider against a real systemd Debian booted with systemd-nspawn: units enabled and
//! running, an nginx site served and a broken one refused with the previous one still served,
//! UFW rules active, cron files in place, hand edits seen as drift, and a destroy that leaves
//! the host as it was. The root is built once per target directory with debootstrap.

use infra_test_harness::vps::*;

fn curl(host: &str, name: &str) -> String {
    let out = std::process::Command::new("curl").args(["-s", "-m", "5", "-H", &format!("Host: {name}"), &format!("http://{host}/")]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stack(debian: &Debian, site_body: &str, unit_description: &str) -> String {
    format!(
        r#"{}
resource "vps_systemd_unit" "app" {{
  name    = "infra-app.service"
  content = <<-EOT
    [Unit]
    Description={unit_description}

    [Service]
    ExecStart=/usr/bin/sleep infinity
    Restart=always

    [Install]
    WantedBy=multi-user.target
  EOT
}}

resource "vps_nginx_site" "app" {{
  name   = "app.conf"
  config = <<-EOT
    server {{
      listen 80;
      server_name app.test;
      location / {{
        {site_body}
      }}
    }}
  EOT
}}

resource "vps_ufw_rule" "ssh" {{
  port    = "22"
  comment = "infra session"
}}

resource "vps_ufw_rule" "http" {{
  port = "80"
}}

resource "vps_ufw" "main" {{
  depends_on = [vps_ufw_rule.ssh, vps_ufw_rule.http]
}}

resource "vps_cron_job" "backup" {{
  name     = "infra-backup"
  schedule = "0 2 * * 0"
  command  = "/usr/local/bin/backup.sh >> /var/log/backup.log 2>&1"
}}
"#,
        debian.provider_block("")
    )
}

#[test]
fn units_sites_firewall_and_cron_on_a_systemd_debian() {
    let debian = boot_debian();
    let host = debian.netns.ns_ip.clone();
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    std::fs::write(d.join("main.tf"), stack(&debian, "return 200 \"v1\\n\";", "infra test app")).unwrap();
    let (code, out) = infra(d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(debian.ssh("systemctl is-active infra-app.service; systemctl is-enabled infra-app.service"), "active\nenabled\n");
    assert_eq!(curl(&host, "app.test"), "v1\n");
    let ufw = debian.ssh("ufw status");
    assert!(ufw.contains("Status: active") && ufw.contains("22/tcp") && ufw.contains("80/tcp") && ufw.contains("# infra session"), "{ufw}");
    assert!(debian.ssh("cat /etc/cron.d/infra-backup").contains("0 2 * * 0 root /usr/local/bin/backup.sh >> /var/log/backup.log 2>&1"));
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "the plan after apply is empty:\n{out}");

    // A broken site is refused by `nginx -t`; the previous one stays in place and served.
    std::fs::write(d.join("main.tf"), stack(&debian, "return 200 \"v2\\n\" oops;", "infra test app")).unwrap();
    let (code, out) = infra(d, &["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("nginx rejected the site") && out.contains("vps_nginx_site.app"), "{out}");
    assert_eq!(curl(&host, "app.test"), "v1\n", "the previous site is still served");
    assert!(debian.ssh("cat /etc/nginx/sites-available/app.conf").contains("\"v1\\n\""));
    // A good change is applied and reloaded; a unit change restarts the unit.
    std::fs::write(d.join("main.tf"), stack(&debian, "return 200 \"v2\\n\";", "infra test app, second edition")).unwrap();
    let pid = debian.ssh("systemctl show -p MainPID --value infra-app.service");
    let (code, out) = infra(d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(curl(&host, "app.test"), "v2\n");
    assert_ne!(debian.ssh("systemctl show -p MainPID --value infra-app.service"), pid, "the unit was restarted");
    assert_eq!(debian.ssh("systemctl is-active infra-app.service"), "active\n");

    // Hand edits are drift, named by drift detection, and apply puts things back.
    debian.ssh("sed -i 's/0 2/30 3/' /etc/cron.d/infra-backup && systemctl stop infra-app.service && ufw delete allow 80/tcp");
    let (code, out) = infra(d, &["plan", "--refresh-only", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("vps_cron_job.backup") && out.contains("\"30 3 * * 0\""), "{out}");
    assert!(out.contains("vps_systemd_unit.app") && out.contains("active") && out.contains("vps_ufw_rule.http"), "{out}");
    let (code, out) = infra(d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(debian.ssh("systemctl is-active infra-app.service"), "active\n");
    assert!(debian.ssh("ufw status").contains("80/tcp"));
    assert!(debian.ssh("cat /etc/cron.d/infra-backup").contains("0 2 * * 0 root"));
    assert_eq!(infra(d, &["plan", "--detailed-exitcode"]).0, 0);

    // Destroy leaves the host as it was: no unit, no site, firewall off, no cron file.
    let (code, out) = infra(d, &["destroy", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(debian.ssh("test -e /etc/systemd/system/infra-app.service && echo left; systemctl is-active infra-app.service"), "inactive\n");
    assert_eq!(debian.ssh("ls /etc/nginx/sites-enabled /etc/nginx/sites-available | grep -c app.conf"), "0\n");
    assert!(debian.ssh("ufw status").contains("Status: inactive"));
    assert_eq!(debian.ssh("test -e /etc/cron.d/infra-backup && echo left"), "");
}

#[test]
fn a_unit_that_does_not_start_fails_the_apply_with_its_journal() {
    let debian = boot_debian();
    let work = tempfile::tempdir().unwrap();
    let stack = format!(
        "{}\nresource \"vps_systemd_unit\" \"broken\" {{\n  name    = \"infra-broken.service\"\n  content = \"[Service]\\nExecStart=/bin/sh -c 'echo starting the broken unit; exit 3'\\n\\n[Install]\\nWantedBy=multi-user.target\\n\"\n}}\n",
        debian.provider_block("")
    );
    std::fs::write(work.path().join("main.tf"), stack).unwrap();
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Unit failed to start") && out.contains("starting the broken unit"), "{out}");
}

#[test]
fn a_firewall_that_would_cut_the_ssh_session_is_refused_at_plan_time() {
    let debian = boot_debian();
    let work = tempfile::tempdir().unwrap();
    let stack = format!(
        "{}\nresource \"vps_ufw_rule\" \"web\" {{\n  port = \"443\"\n}}\n\nresource \"vps_ufw\" \"main\" {{\n  default_incoming = \"deny\"\n}}\n",
        debian.provider_block("")
    );
    std::fs::write(work.path().join("main.tf"), stack).unwrap();
    let (code, out) = infra(work.path(), &["plan"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Firewall would lock infra out") && out.contains("port 22/tcp") && out.contains("main.tf:"), "{out}");
    assert!(debian.ssh("ufw status").contains("Status: inactive"), "nothing was applied");
}

#[test]
fn an_apt_package_comes_from_a_local_repository_and_goes_on_destroy() {
    // The container has no route out: a repository on this machine's side of the veth serves
    // a real package, fetched here with apt-get download.
    ensure_package("/usr/bin/dpkg-scanpackages", "dpkg-dev");
    let debian = boot_debian();
    let repo = tempfile::tempdir().unwrap();
    sh(&format!("cd {} && apt-get download -q hello >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get download -q hello >/dev/null); dpkg-scanpackages -m . > Packages 2>/dev/null", repo.path().display()));
    let port = std::net::TcpListener::bind((debian.netns.host_ip.as_str(), 0)).unwrap().local_addr().unwrap().port();
    let mut server = std::process::Command::new("python3")
        .args(["-m", "http.server", &port.to_string(), "--bind", &debian.netns.host_ip, "--directory"])
        .arg(repo.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let stack = format!(
        "{}\nresource \"vps_file\" \"sources\" {{\n  path    = \"/etc/apt/sources.list\"\n  content = \"deb [trusted=yes] http://{}:{port}/ ./\\n\"\n}}\n\nresource \"vps_apt_package\" \"hello\" {{\n  name       = \"hello\"\n  depends_on = [vps_file.sources]\n}}\n",
        debian.provider_block(""),
        debian.netns.host_ip
    );
    std::fs::write(work.path().join("main.tf"), stack).unwrap();
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    let version = debian.ssh("dpkg-query -W -f='${Version}' hello");
    assert!(!version.is_empty());
    let (_, shown) = infra(work.path(), &["state", "show", "vps_apt_package.hello"]);
    assert!(shown.contains(&format!("\"{version}\"")), "{shown}");
    assert_eq!(infra(work.path(), &["plan", "--detailed-exitcode"]).0, 0);
    // Removed by hand: drift; apply installs it again.
    debian.ssh("apt-get remove -y -q hello >/dev/null 2>&1");
    let (code, out) = infra(work.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("vps_apt_package.hello will be created"), "{out}");
    let (code, out) = infra(work.path(), &["destroy", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(debian.ssh("dpkg-query -W -f='${Status}' hello 2>/dev/null | grep -c ' installed'"), "0\n");
    let _ = server.kill();
    let _ = server.wait();
}

/// The variables every VPS example takes, for this container.
fn host_vars(debian: &Debian, extra: &[&str]) -> Vec<String> {
    let key: Vec<&str> = debian.host_key.split_whitespace().take(2).collect();
    let mut v =
        vec![format!("host={}", debian.netns.ns_ip), format!("private_key_file={}", debian.client_key.display()), format!("host_key={}", key.join(" "))];
    v.extend(extra.iter().map(|s| s.to_string()));
    v.into_iter().flat_map(|x| ["--var".to_string(), x]).collect()
}

fn run(d: &std::path::Path, verb: &[&str], vars: &[String]) -> (i32, String) {
    let mut args: Vec<&str> = verb.to_vec();
    args.extend(vars.iter().map(String::as_str));
    infra(d, &args)
}

#[test]
fn the_gw2_example_serves_restores_hand_edits_and_leaves_the_host_as_it_was() {
    let debian = boot_debian();
    let dir = example("gw2-wvw-builder");
    let d = dir.path();
    let v = host_vars(
        &debian,
        &[
            "backend_command=/usr/bin/sleep infinity",
            "app_user=www-data",
            "app_dir=/srv/gw2",
            "ssl_certificate=/etc/ssl/certs/ssl-cert-snakeoil.pem",
            "ssl_certificate_key=/etc/ssl/private/ssl-cert-snakeoil.key",
        ],
    );
    let before = debian.ssh("ls /etc/systemd/system /etc/nginx/sites-enabled /etc/cron.d /etc/logrotate.d; ufw status");
    let (code, out) = run(d, &["apply", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert_eq!(run(d, &["plan", "--detailed-exitcode"], &v).0, 0, "the plan after apply is empty");
    assert_eq!(debian.ssh("systemctl is-active gw2-backend.service; systemctl show -p MemoryMax --value gw2-backend.service"), "active\n1073741824\n");
    let redirect = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "-H", "Host: gw2builder.example.com", &format!("http://{}/", debian.netns.ns_ip)])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&redirect.stdout), "301 https://gw2builder.example.com/");
    let health = std::process::Command::new("curl")
        .args(["-sk", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: gw2builder.example.com", &format!("https://{}/health", debian.netns.ns_ip)])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&health.stdout), "502", "/health is proxied to the backend port (the stand-in does not listen)");
    assert!(debian.ssh("cat /etc/cron.d/gw2-backup").contains("0 2 * * 0 www-data /srv/gw2/scripts/backup_database.sh >> /srv/gw2/backups/cron.log 2>&1"));
    let ufw = debian.ssh("ufw status");
    assert!(["22/tcp", "80/tcp", "443/tcp"].iter().all(|p| ufw.contains(p)) && ufw.contains("Status: active"), "{ufw}");

    // A hand edit of a managed file is drift, named; apply puts it back.
    debian.ssh("echo 'rm -rf /' >> /srv/gw2/scripts/backup_database.sh");
    let (code, out) = run(d, &["plan", "--refresh-only", "--detailed-exitcode"], &v);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("vps_file.backup_script") && out.contains("rm -rf /"), "{out}");
    let (code, out) = run(d, &["apply", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert!(!debian.ssh("cat /srv/gw2/scripts/backup_database.sh").contains("rm -rf"));
    assert_eq!(run(d, &["plan", "--detailed-exitcode"], &v).0, 0);

    // Destroy leaves the host as it was.
    let (code, out) = run(d, &["destroy", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert_eq!(debian.ssh("ls /etc/systemd/system /etc/nginx/sites-enabled /etc/cron.d /etc/logrotate.d; ufw status"), before);
    assert_eq!(debian.ssh("test -e /srv/gw2 && echo left"), "");
}

#[test]
fn the_finaiflow_example_without_its_compose_stack_on_a_systemd_debian() {
    // This container has no Docker: the stack's compose part is tested on the local engine by
    // vps_ssh.rs (the_finaiflow_compose_stack_runs_on_the_local_engine).
    let debian = boot_debian();
    let dir = example("finaiflow");
    let d = dir.path();
    let v = host_vars(&debian, &["run_compose=false"]);
    let before = debian.ssh("ls /etc/fail2ban/jail.d /etc/cron.d; ufw status");
    let (code, out) = run(d, &["apply", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert_eq!(run(d, &["plan", "--detailed-exitcode"], &v).0, 0);
    assert!(debian.ssh("fail2ban-client status").contains("nginx-limit-req"), "the jail is loaded");
    assert!(debian.ssh("cat /etc/cron.d/finaiflow-backup").contains("0 2 * * * root /opt/finaiflow/scripts/database_backup.sh"));
    assert!(debian.ssh("cat /etc/cron.d/finaiflow-backup-cleanup").contains("0 3 * * * root find /opt/finaiflow/backups -name '*.sql' -mtime +30 -delete"));
    debian.ssh("sed -i 's/maxretry = 10/maxretry = 1000/' /etc/fail2ban/jail.d/finaiflow.local");
    let (code, out) = run(d, &["plan", "--refresh-only", "--detailed-exitcode"], &v);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("vps_file.fail2ban_jail") && out.contains("maxretry = 1000"), "{out}");
    let (code, out) = run(d, &["apply", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert!(debian.ssh("cat /etc/fail2ban/jail.d/finaiflow.local").contains("maxretry = 10\n"));
    let (code, out) = run(d, &["destroy", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert_eq!(debian.ssh("ls /etc/fail2ban/jail.d /etc/cron.d; ufw status"), before);
    assert_eq!(debian.ssh("test -e /opt/finaiflow && echo left"), "");
}

#[test]
fn the_attendee_example_without_its_compose_stack_on_a_systemd_debian() {
    // No Docker in this container: the compose part runs on the local engine in vps_ssh.rs.
    let debian = boot_debian();
    let dir = example("attendee-ems-vps");
    let d = dir.path();
    let v = host_vars(
        &debian,
        &["run_compose=false", "ssl_certificate=/etc/ssl/certs/ssl-cert-snakeoil.pem", "ssl_certificate_key=/etc/ssl/private/ssl-cert-snakeoil.key"],
    );
    let before = debian.ssh("ls /etc/fail2ban/jail.d /etc/cron.d /etc/nginx/sites-enabled /usr/local/bin; ufw status");
    let (code, out) = run(d, &["apply", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert_eq!(run(d, &["plan", "--detailed-exitcode"], &v).0, 0);
    let jails = debian.ssh("fail2ban-client status");
    assert!(jails.contains("sshd") && jails.contains("nginx-http-auth"), "{jails}");
    // The site proxies /api/ and /socket.io/ to the backend port (nothing listens: 502).
    for path in ["/api/events", "/socket.io/?EIO=4"] {
        let code = std::process::Command::new("curl")
            .args(["-sk", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: attendee.example.com", &format!("https://{}{path}", debian.netns.ns_ip)])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&code.stdout), "502", "{path}");
    }
    assert!(debian.ssh("cat /etc/cron.d/certbot-renew").contains("0 3 * * * root certbot renew --quiet --post-hook \"systemctl reload nginx\""));
    debian.ssh("sed -i 's/attendee_backend/elsewhere/' /etc/nginx/sites-available/attendee.conf");
    let (code, out) = run(d, &["plan", "--refresh-only", "--detailed-exitcode"], &v);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("vps_nginx_site.attendee") && out.contains("elsewhere"), "{out}");
    let (code, out) = run(d, &["apply", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert!(!debian.ssh("cat /etc/nginx/sites-available/attendee.conf").contains("elsewhere"));
    let (code, out) = run(d, &["destroy", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert_eq!(debian.ssh("ls /etc/fail2ban/jail.d /etc/cron.d /etc/nginx/sites-enabled /usr/local/bin; ufw status"), before);
}

#[test]
fn a_non_root_user_works_through_sudo() {
    let debian = boot_debian();
    debian.ssh("useradd -m -s /bin/sh deploy && usermod -p '*' deploy && mkdir -p ~deploy/.ssh && cp /root/.ssh/authorized_keys ~deploy/.ssh/ && chown -R deploy: ~deploy/.ssh && echo 'deploy ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/deploy && chmod 0440 /etc/sudoers.d/deploy");
    let work = tempfile::tempdir().unwrap();
    let stack = |sudo: bool| {
        format!(
            "{}\nresource \"vps_file\" \"privileged\" {{\n  path    = \"/etc/infra-sudo-test.conf\"\n  content = \"written through sudo\\n\"\n  mode    = \"0600\"\n}}\n",
            debian.provider_block(&format!("  sudo = {sudo}\n")).replace("user             = \"root\"", "user             = \"deploy\"")
        )
    };
    // Without sudo the deploy user cannot write there: the host's refusal is the diagnostic.
    std::fs::write(work.path().join("main.tf"), stack(false)).unwrap();
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Permission denied"), "{out}");
    std::fs::write(work.path().join("main.tf"), stack(true)).unwrap();
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(debian.ssh("stat -c '%U %a' /etc/infra-sudo-test.conf; cat /etc/infra-sudo-test.conf"), "root 600\nwritten through sudo\n");
    assert_eq!(infra(work.path(), &["plan", "--detailed-exitcode"]).0, 0);
}

#[test]
fn objects_made_by_hand_import_by_name_with_an_empty_plan() {
    let debian = boot_debian();
    let unit = "[Unit]\nDescription=made by hand\n\n[Service]\nExecStart=/usr/bin/sleep infinity\n\n[Install]\nWantedBy=multi-user.target\n";
    let site = "server {\n  listen 8081;\n  location / { return 200 \"hand\\n\"; }\n}\n";
    debian.ssh(&format!(
        "printf '%s' '{unit}' > /etc/systemd/system/hand.service && systemctl daemon-reload && systemctl enable --now hand.service && printf '%s' '{site}' > /etc/nginx/sites-available/hand.conf && ln -s /etc/nginx/sites-available/hand.conf /etc/nginx/sites-enabled/hand.conf && systemctl reload nginx && echo '15 4 * * * root /usr/bin/true' > /etc/cron.d/hand-job && ufw allow 8081/tcp >/dev/null"
    ));
    let work = tempfile::tempdir().unwrap();
    let stack = format!(
        r#"{}
import {{
  to = vps_systemd_unit.hand
  id = "hand.service"
}}

import {{
  to = vps_nginx_site.hand
  id = "hand.conf"
}}

import {{
  to = vps_cron_job.hand
  id = "hand-job"
}}

import {{
  to = vps_ufw_rule.hand
  id = "allow tcp 8081 any"
}}

resource "vps_systemd_unit" "hand" {{
  name    = "hand.service"
  content = {unit:?}
}}

resource "vps_nginx_site" "hand" {{
  name   = "hand.conf"
  config = {site:?}
}}

resource "vps_cron_job" "hand" {{
  name     = "hand-job"
  schedule = "15 4 * * *"
  command  = "/usr/bin/true"
}}

resource "vps_ufw_rule" "hand" {{
  port = "8081"
}}
"#,
        debian.provider_block("")
    );
    std::fs::write(work.path().join("main.tf"), stack).unwrap();
    let (code, out) = infra(work.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("Plan: 4 to import, 0 to add, 0 to change, 0 to destroy."), "{out}");
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(infra(work.path(), &["plan", "--detailed-exitcode"]).0, 0);
}

#[test]
fn a_changed_file_restarts_the_services_it_names() {
    let debian = boot_debian();
    let work = tempfile::tempdir().unwrap();
    let stack = |value: &str| {
        format!(
            "{}\nresource \"vps_file\" \"env\" {{\n  path             = \"/etc/infra-app.env\"\n  content          = \"MODE={value}\\n\"\n  restart_services = [\"infra-app.service\"]\n}}\n\nresource \"vps_systemd_unit\" \"app\" {{\n  name    = \"infra-app.service\"\n  content = \"[Service]\\nEnvironmentFile=/etc/infra-app.env\\nExecStart=/usr/bin/sleep infinity\\n\\n[Install]\\nWantedBy=multi-user.target\\n\"\n  depends_on = [vps_file.env]\n}}\n",
            debian.provider_block("")
        )
    };
    std::fs::write(work.path().join("main.tf"), stack("one")).unwrap();
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    let pid = debian.ssh("systemctl show -p MainPID --value infra-app.service");
    std::fs::write(work.path().join("main.tf"), stack("two")).unwrap();
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_ne!(debian.ssh("systemctl show -p MainPID --value infra-app.service"), pid, "the unit was restarted");
    assert_eq!(debian.ssh("cat /proc/$(systemctl show -p MainPID --value infra-app.service)/environ | tr '\\0' '\\n' | grep MODE"), "MODE=two\n");
}
