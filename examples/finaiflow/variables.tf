variable "host" {
  type = string
}

variable "port" {
  type    = number
  default = 22
}

variable "user" {
  type    = string
  default = "root"
}

variable "private_key_file" {
  type = string
}

variable "host_key" {
  description = "The server's public host key line, as ssh-keyscan prints it without the host name."
  type        = string
}

variable "domain" {
  type    = string
  default = "finaiflow.example.com"
}

variable "app_dir" {
  type    = string
  default = "/opt/finaiflow"
}

variable "images" {
  description = "Image of each service."
  type        = map(string)
  default = {
    api      = "ghcr.io/finaiflow/api:latest"
    postgres = "postgres:16-alpine"
    redis    = "redis:7-alpine"
    nginx    = "nginx:1.27-alpine"
  }
}

variable "stand_in_command" {
  description = "Tests only: run every service with this command (a local image without the application)."
  type        = list(string)
  default     = null
}

variable "http_port" {
  type    = number
  default = 80
}

variable "https_port" {
  type    = number
  default = 443
}

variable "run_compose" {
  description = "Tests only: false leaves out the compose stack (for a host without Docker)."
  type        = bool
  default     = true
}
