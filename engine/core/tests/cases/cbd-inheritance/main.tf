variable "trigger" {
  default = "two"
}

# Replaced destroy-first on its own, but "top" creates its replacement first and depends on
# it, so "base" must create first too.
resource "terraform_data" "base" {
  triggers_replace = var.trigger
}

resource "terraform_data" "top" {
  input            = terraform_data.base.id
  triggers_replace = var.trigger
  lifecycle {
    create_before_destroy = true
  }
}

resource "terraform_data" "unrelated" {
  triggers_replace = var.trigger
}
