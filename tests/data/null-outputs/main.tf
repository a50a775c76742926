output "present" {
  value = "here"
}

output "absent" {
  value = one([])
}

output "null_literal" {
  value = null
}
