# Terraform's one-dash spelling of long options works as well as the two-dash one.
variable "name" {
  type = string
}

resource "terraform_data" "greeting" {
  input = "hello ${var.name}"
}

output "greeting" {
  value = terraform_data.greeting.output
}
