# The reproduction of issue 10: a saved plan applies what was reviewed, or nothing.
variable "token" {
  default   = "s3cret"
  sensitive = true
}

resource "terraform_data" "f" {
  input = "one"
}

resource "terraform_data" "motd" {
  input = templatefile("motd.tpl", { name = "ops" })
}

module "app" {
  source = "./modules/app"
  token  = var.token
}
