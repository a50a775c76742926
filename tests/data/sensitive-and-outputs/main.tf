variable "secret" {
  type      = string
  default   = "hunter2"
  sensitive = true
}

resource "terraform_data" "s" {
  input = { password = var.secret, user = "admin" }
}

output "user" {
  value = terraform_data.s.output.user
}

output "leak" {
  value = "pw=${var.secret}"
}
