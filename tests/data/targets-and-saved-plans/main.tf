variable "v" {
  default = "1"
}

resource "terraform_data" "base" {
  input = var.v
}

resource "terraform_data" "mid" {
  input = terraform_data.base.output
}

resource "terraform_data" "other" {
  input = "other-${var.v}"
}
