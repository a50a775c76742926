provider "random" {
  alias = "second"
}

variable "prefix" {
  default = "env"
}

module "net" {
  source = "./modules/net"
  count  = 2

  name  = "${var.prefix}${count.index}"
  cidrs = [for i in range(count.index + 1) : cidrsubnet("10.${count.index}.0.0/16", 8, i)]
}

module "pet" {
  source    = "./modules/pet"
  providers = { random = random.second }
}

data "local_file" "motd" {
  filename = "motd.txt"
}

output "all_cidrs" {
  value = flatten(module.net[*].cidrs)
}

output "tags" {
  value = module.net[1].tag
}

output "motd" {
  value = trimspace(data.local_file.motd.content)
}

output "pet_length" {
  value = length(split("-", module.pet.name))
}

resource "random_id" "aliased" {
  provider    = random.second
  byte_length = 4
}

output "aliased_hex_length" {
  value = length(random_id.aliased.hex)
}
