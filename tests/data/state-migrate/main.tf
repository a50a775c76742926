terraform {
  required_providers {
    local = {
      source  = "hashicorp/local"
      version = "~> 2.5"
    }
  }
  backend "local" {
    path = "terraform.tfstate"
  }
}

resource "local_file" "motd" {
  filename        = "motd.txt"
  content         = "hello\n"
  file_permission = "0644"
}

module "box" {
  source   = "./modules/box"
  for_each = toset(["a", "b"])
  name     = each.key
}

output "motd_id" {
  value = local_file.motd.id
}
