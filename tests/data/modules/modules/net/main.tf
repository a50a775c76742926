variable "name" {
  type = string
}

variable "cidrs" {
  type = list(string)
}

resource "terraform_data" "subnet" {
  count = length(var.cidrs)
  input = { name = "${var.name}-${count.index}", cidr = var.cidrs[count.index] }
}

module "tag" {
  source = "../tag"
  owner  = var.name
}

output "cidrs" {
  value = terraform_data.subnet[*].output.cidr
}

output "tag" {
  value = module.tag.tags
}
