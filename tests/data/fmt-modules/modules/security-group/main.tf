variable "name" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "rules" {
  type    = any
  default = {}
}

resource "aws_security_group_rule" "this" {
  for_each = var.rules

  security_group_id = var.vpc_id
  type              = each.value.type
  from_port         = each.value.from_port
  to_port           = each.value.to_port
  protocol          = each.value.protocol
  cidr_blocks       = length(each.value.cidr_blocks) > 0 ? each.value.cidr_blocks : null
  description       = coalesce(each.value.description, "${var.name} ${each.key}")
}
