# State encryption as OpenTofu writes it; the cases around it whose output is deterministic.
variable "passphrase" {
  type      = string
  sensitive = true
  default   = "correct horse battery staple"
}

terraform {
  encryption {
    key_provider "pbkdf2" "k" {
      passphrase = var.passphrase
      iterations = 200000
    }
    method "aes_gcm" "k" {
      keys = key_provider.pbkdf2.k
    }
    state {
      method   = method.aes_gcm.k
      enforced = true
    }
  }
}

resource "terraform_data" "secret" {
  input = "s3cr3t-in-state"
}
