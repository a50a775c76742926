locals {
  m = { b = 2, a = 1 }
}
