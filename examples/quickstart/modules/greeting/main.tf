variable "name" {
  type = string
}

variable "out_dir" {
  type = string
}

resource "local_file" "hello" {
  filename        = "${var.out_dir}/hello-${var.name}.txt"
  content         = "Hello from ${upper(var.name)}!\n"
  file_permission = "0644"
}

output "filename" {
  value = local_file.hello.filename
}
