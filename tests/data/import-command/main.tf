variable "files" {
  type    = list(string)
  default = ["a.txt", "b.txt"]
}

resource "local_file" "f" {
  for_each        = toset(var.files)
  filename        = each.value
  content         = "same\n"
  file_permission = "0644"
}

resource "local_file" "single" {
  filename        = "single.txt"
  content         = "one\n"
  file_permission = "0644"
}

resource "terraform_data" "counted" {
  count = 2
  input = "x"
}
