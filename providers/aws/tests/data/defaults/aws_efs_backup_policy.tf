resource "aws_efs_file_system" "data" {
  creation_token = "defaults-backup"
}

resource "aws_efs_backup_policy" "data" {
  file_system_id = aws_efs_file_system.data.id

  backup_policy {
    status = "ENABLED"
  }
}
