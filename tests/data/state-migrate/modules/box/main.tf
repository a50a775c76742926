variable "name" {
  type = string
}

resource "terraform_data" "item" {
  count = 1
  input = var.name
}
