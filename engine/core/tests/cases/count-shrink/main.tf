variable "trigger" {
  default = "two"
}

variable "n" {
  default = 1
}

resource "terraform_data" "a" {
  count = var.n
  input = "a${count.index}"
}

resource "terraform_data" "b" {
  count = var.n
  input = terraform_data.a[count.index].id
}
