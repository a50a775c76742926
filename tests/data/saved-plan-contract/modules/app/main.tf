variable "token" {
  sensitive = true
}

resource "terraform_data" "app" {
  input = "v1-${var.token}"
}
