resource "terraform_data" "renamed" {
  input = "x"
}

moved {
  from = terraform_data.original
  to   = terraform_data.renamed
}

resource "local_file" "existing" {
  filename        = "existing.txt"
  content         = "made by hand\n"
  file_permission = "0644"
}

import {
  to = local_file.existing
  id = "existing.txt"
}
