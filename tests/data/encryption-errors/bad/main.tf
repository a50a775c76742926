terraform {
  encryption {
    key_provider "pbkdf2" "k" {
      passphrase = "short"
    }
    method "aes_gcm" "k" {
      keys = key_provider.pbkdf2.k
    }
    state {
      method = method.aes_gcm.nope
    }
  }
}

resource "terraform_data" "x" {}
