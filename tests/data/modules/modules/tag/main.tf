variable "owner" {
  type = string
}

output "tags" {
  value = { owner = var.owner, path = path.module }
}
