variable "trigger" {
  default = "two"
}

resource "terraform_data" "db" {
  triggers_replace = var.trigger
  lifecycle {
    create_before_destroy = true
  }
}
