variable "name" {
  type = string
}

resource "terraform_data" "greeting" {
  input = "hello ${var.name}"

  provisioner "local-exec" {
    command = "true"
  }
}

output "greeting" {
  value = terraform_data.greeting.output
}

output "secret" {
  value     = "pw-${var.name}"
  sensitive = true
}
