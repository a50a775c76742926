# Encrypted EFS for the backend's SQLite file, provisioned at 100 MiB/s, backed up daily, with a
# mount target in each private subnet.

resource "aws_efs_file_system" "sqlite_storage" {
  creation_token                  = "bdd-bot-sqlite-${var.environment}"
  performance_mode                = "generalPurpose"
  throughput_mode                 = "provisioned"
  provisioned_throughput_in_mibps = 100
  encrypted                       = true

  tags = {
    Name = "bdd-bot-sqlite-storage"
  }
}

resource "aws_efs_backup_policy" "sqlite_storage" {
  count          = var.backup_policy ? 1 : 0
  file_system_id = aws_efs_file_system.sqlite_storage.id

  backup_policy {
    status = "ENABLED"
  }
}

resource "aws_efs_mount_target" "sqlite_storage" {
  count           = length(aws_subnet.private)
  file_system_id  = aws_efs_file_system.sqlite_storage.id
  subnet_id       = aws_subnet.private[count.index].id
  security_groups = [aws_security_group.efs.id]
}
