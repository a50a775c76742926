# comment stays
resource "terraform_data" "x" {
input = {
a = 1
longer_name    =   "v"   # trailing comment
}
  triggers_replace = "${var.v} { not a block }"
}

variable "v" {
    default = "x"
}

locals {
      text = <<-EOT
   kept exactly
      { as written
    EOT
  n = 1
}
