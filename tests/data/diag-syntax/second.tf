locals {
  ok = 1 +
}
