terraform {
  encryption {
    method "unencrypted" "plain" {}
    state {
      method   = method.unencrypted.plain
      enforced = true
    }
  }
}

resource "terraform_data" "x" {}
