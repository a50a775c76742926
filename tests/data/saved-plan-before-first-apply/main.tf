# Regression: a plan saved before the first apply was always refused as stale, because the
# state it was made on (none) got a new random lineage on every run.
resource "terraform_data" "first" {
  input = "one"
}
