resource "terraform_data" "base" {
  input = 1
}

resource "terraform_data" "uses_typo" {
  input = terraform_data.bse.output
}

resource "terraform_data" "uses_var" {
  input = var.regoin
}

variable "region" {
  default = "eu"
}

resource "terraform_data" "list_each" {
  for_each = ["a", "b"]
  input    = each.key
}

resource "terraform_data" "unknown_count" {
  count = length(terraform_data.base.id)
  input = 1
}

resource "terraform_data" "no_each" {
  input = each.key
}

resource "local_file" "missing" {
  content = "x"
}

resource "terraform_data" "bad_block" {
  input = 1
  lifecycl {
  }
}

output "bad_call" {
  value = lenght([1])
}
