variable "count_of" {
  type = number
}

variable "settings" {
  type = object({
    name = string
    port = optional(number, 8080)
  })
  default = { name = "api" }
}

variable "mode" {
  type = string
  validation {
    condition     = contains(["a", "b"], var.mode)
    error_message = "mode must be a or b."
  }
}

resource "terraform_data" "x" {
  input = "${var.settings.name}:${var.settings.port}:${var.count_of + 1}:${var.mode}"
}

output "x" {
  value = terraform_data.x.output
}
