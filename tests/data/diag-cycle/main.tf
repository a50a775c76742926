resource "terraform_data" "a" {
  input = terraform_data.b.output
}

resource "terraform_data" "b" {
  input = local.c
}

locals {
  c = terraform_data.a.id
}
