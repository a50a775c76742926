variable "port" {
  default = 80
}

resource "terraform_data" "json" {
  input = jsonencode({ server = { port = var.port, tls = false }, names = ["a", "b"] })
}

resource "terraform_data" "text" {
  input = <<-EOT
    server {
      listen ${var.port};
      root /srv;
    }
  EOT
}
