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
  description = "Where the application lives; default: GW2_WvWbuilder in the account's home."
  type        = string
  default     = null
}

variable "backend_command" {
  description = "The backend's command line; a test host without the application can run a stand-in such as /usr/bin/sleep infinity."
  type        = string
  default     = "/usr/bin/env poetry run uvicorn app.main:app --host 127.0.0.1 --port 8000 --workers 2"
}

variable "certificate_email" {
  description = "The address Let's Encrypt writes to about the certificate (expiry, revocation); null registers without one."
  type        = string
  default     = null
}

variable "certificate_staging" {
  description = "Ask Let's Encrypt's staging authority (certificates browsers do not trust, generous rate limits): for trying the stack on a real domain."
  type        = bool
  default     = false
}

variable "certificate_self_signed" {
  description = "A self-signed certificate made on the host with openssl instead of asking Let's Encrypt: for test hosts no authority can reach."
  type        = bool
  default     = false
}
