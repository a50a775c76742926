resource "terraform_data" "kept" {
  input = "x"
}
