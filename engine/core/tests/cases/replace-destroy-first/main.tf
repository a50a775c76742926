variable "trigger" {
  default = "two"
}

resource "terraform_data" "db" {
  triggers_replace = var.trigger
}

resource "terraform_data" "app" {
  input = terraform_data.db.id
}
