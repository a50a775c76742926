# One object cannot be created; independent work still finishes, its dependent is skipped,
# and the state holds exactly what exists.
resource "local_file" "ok" {
  filename = "ok.txt"
  content  = "fine\n"
}

resource "local_file" "broken" {
  filename = "blocked/file.txt"
  content  = "never\n"
}

resource "terraform_data" "after_broken" {
  input = local_file.broken.id
}
