locals {
  name = "x"
  cidr = "10.0.0.0/16"
  security_group_rules = {
  ingress = 1
  }
  azs = ["a"]
  private_subnets = ["b"]
  policy = jsonencode({
      Version = "2012-10-17"
      Statement = [{
          Effect = "Allow" # why
          Resource = "*"    # what
        }]
    })
  tags = merge(var.tags, {
        Name = "x"
      })
  even = [for s in var.list: upper(s) if s != ""]
  odd = {for k,v in var.m: k=>v}
  text = <<-EOT
      { kept as written
    EOT
}


variable "tags" {
  type = map(string)
  default = {}
}
variable "list" {
  type = "list"
  default = []
}
variable "m" {
  type = map
  default = {}
}
resource terraform_data x {
  input = "${local.name}"
  lifecycle {ignore_changes=[input]}
}
resource "terraform_data" "empty" {}
