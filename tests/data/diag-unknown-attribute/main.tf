resource "local_file" "a" {
  filname = "x"
  content = "y"
}

resource "terraform_data" "b" {
  inputs = 1
}

resource "terraform_data" "c" {
  id = "fixed"
}
