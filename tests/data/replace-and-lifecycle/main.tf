variable "trigger" {
  default = "one"
}

variable "keep" {
  default = "k1"
}

resource "terraform_data" "plain" {
  input            = "v"
  triggers_replace = var.trigger
}

resource "terraform_data" "cbd" {
  input            = terraform_data.plain.id
  triggers_replace = var.trigger
  lifecycle {
    create_before_destroy = true
  }
}

resource "terraform_data" "ignored" {
  input = var.keep
  lifecycle {
    ignore_changes = [input]
  }
}

resource "terraform_data" "guarded" {
  input = var.keep
  lifecycle {
    prevent_destroy = true
  }
}
