variable "list" {
  default = ["a", "b", "c"]
}

locals {
  objs = [{ name = "x", port = 1 }, { name = "y", port = 2 }]
  heredoc = <<-EOT
    line one
      indented ${upper("two")}
    EOT
  strip = "a %{ if true ~}  yes  %{~ endif } b"
}
