resource "random_pet" "this" {
  length = 3
}

output "name" {
  value = random_pet.this.id
}
