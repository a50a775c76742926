from_files = ["tfvars"]
content = "from tfvars"
