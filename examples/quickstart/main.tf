# A stack that runs with no cloud account: a local module, for_each, local_file,
# random_password and terraform_data.

variable "environments" {
  type    = set(string)
  default = ["dev", "prod"]
}

variable "owner" {
  type    = string
  default = "ops"
}

locals {
  out_dir = "${path.module}/out"
  tags    = { owner = var.owner, managed_by = "infra" }
}

resource "random_password" "db" {
  length  = 20
  special = false
}

module "greeting" {
  source   = "./modules/greeting"
  for_each = var.environments

  name    = each.key
  out_dir = local.out_dir
}

resource "terraform_data" "release" {
  input = {
    files = [for m in module.greeting : m.filename]
    tags  = local.tags
  }
}

resource "local_sensitive_file" "db_env" {
  filename = "${local.out_dir}/db.env"
  content  = "DB_PASSWORD=${random_password.db.result}\n"
}

output "files" {
  value = terraform_data.release.output.files
}

output "db_password" {
  value     = random_password.db.result
  sensitive = true
}
