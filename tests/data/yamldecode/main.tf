# yamldecode as Terraform 1.11 decodes YAML: YAML 1.1 words for plain scalars only.
