from_files = ["auto"]
