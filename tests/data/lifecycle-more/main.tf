terraform {
  required_providers {
    local = {
      source = "hashicorp/local"
    }
  }
  backend "local" {
    path = "state/custom.tfstate"
  }
}

variable "content" {
  type     = string
  nullable = false
}

variable "from_files" {
  type = list(string)
}

variable "rev" {
  default = "1"
}

resource "local_file" "written" {
  filename = "written.txt"
  content  = var.content
}

# Reads what local_file.written is about to write: deferred to apply while it changes.
data "local_file" "reread" {
  filename   = "written.txt"
  depends_on = [local_file.written]
}

resource "terraform_data" "copy" {
  input = data.local_file.reread.content
}

resource "terraform_data" "source" {
  input = var.rev
}

resource "terraform_data" "follower" {
  input = "static"
  lifecycle {
    replace_triggered_by = [terraform_data.source]
  }
}

output "files" {
  value = var.from_files
}
