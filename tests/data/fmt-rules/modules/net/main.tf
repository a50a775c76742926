variable "cidr" {
type=string
}
