variable "host" {
  description = "The server's address."
  type        = string
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
  default = "gw2builder.example.com"
}

variable "app_user" {
  description = "The account the backend runs as."
  type        = string
  default     = "roddy"
}

variable "app_dir" {
  type    = string
  default = "/home/roddy/GW2_WvWbuilder"
}

variable "backend_command" {
  description = "The backend's command line; a test host without the application can run a stand-in such as /usr/bin/sleep infinity."
  type        = string
  default     = "/usr/bin/env poetry run uvicorn app.main:app --host 127.0.0.1 --port 8000 --workers 2"
}

variable "ssl_certificate" {
  description = "Defaults to certbot's path for the domain."
  type        = string
  default     = null
}

variable "ssl_certificate_key" {
  type    = string
  default = null
}
