output "vpc_id" {
  description = "The ID of the VPC"
  value       = try(aws_vpc.this[0].id, null)
}

output "public_subnets" {
  description = "List of IDs of public subnets"
  value       = local.public_subnet_ids
}

output "instance_ips" {
  description = "Private IPs of the instances, by zone"
  value = {
    for az, i in aws_instance.web : az => i.private_ip
  }
  sensitive = false
}
