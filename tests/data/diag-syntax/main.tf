resource "local_file" "a" {
  filename = "x
}
