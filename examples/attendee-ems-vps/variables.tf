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
  default = "attendee.example.com"
}

variable "app_dir" {
  type    = string
  default = "/opt/attendee-ems"
}

variable "backups_dir" {
  type    = string
  default = "/backups/postgres"
}

variable "frontend_dir" {
  description = "Where the built frontend is deployed."
  type        = string
  default     = "/var/www/frontend"
}

variable "downloads_dir" {
  description = "Files served under /downloads/."
  type        = string
  default     = "/var/www/downloads"
}

variable "images" {
  description = "Image of each service."
  type        = map(string)
  default = {
    backend  = "ghcr.io/attendee-ems/backend:latest"
    postgres = "postgres:16-alpine"
  }
}

variable "r2" {
  description = "Cloudflare R2 settings of the uploads bucket (account_id, access_key, secret_key, bucket, public_url)."
  type        = map(string)
  sensitive   = true
  default     = {}
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

variable "stand_in_command" {
  description = "Tests only: run every service with this command (a local image without the application)."
  type        = list(string)
  default     = null
}

variable "run_compose" {
  description = "Tests only: false leaves out the compose stack (for a host without Docker)."
  type        = bool
  default     = true
}

variable "database_url" {
  description = "DATABASE_URL of the production database (examples/attendee-ems's database_url output: Cloud SQL). Empty: the compose stack's own db service."
  type        = string
  default     = ""
  sensitive   = true
}
