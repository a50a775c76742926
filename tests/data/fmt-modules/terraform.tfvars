name = "demo"
azs  = ["eu-west-1a", "eu-west-1b"]

public_subnets = [
  "10.0.1.0/24",
  "10.0.2.0/24",
]

tags = {
  Owner       = "platform"
  Environment = "dev"
}
