variable "n" {
  type    = number
  default = 3
}

variable "names" {
  type    = set(string)
  default = ["a", "b"]
}

resource "terraform_data" "counted" {
  count = var.n
  input = "item-${count.index}"
}

resource "terraform_data" "keyed" {
  for_each = var.names
  input    = upper(each.value)
}

output "inputs" {
  value = terraform_data.counted[*].output
}

output "keyed" {
  value = { for k, v in terraform_data.keyed : k => v.output }
}
