resource "terraform_data" "both" {
  count    = 2
  for_each = toset(["a"])
}

module "m" {
  for_each = toset(["a"])
  source   = "./modules/m"
  count    = 1
}

moved {
  from = terraform_data.old
  to   = "not an address"
}

import {
  to = "aws_vpc.main"
  id = "vpc-1"
}
