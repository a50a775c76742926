locals {
  files = {
    a = "a.txt"
    b = "b.txt"
  }
}

resource "local_file" "f" {
  for_each        = local.files
  filename        = each.value
  content         = "${each.key}\n"
  file_permission = "0644"
}

# An expression id and a computed index, one import per element.
import {
  for_each = local.files
  to       = local_file.f[each.key]
  id       = each.value
}

# No resource block: plan --generate-config-out writes one.
import {
  to = local_file.written
  id = "w.txt"
}
