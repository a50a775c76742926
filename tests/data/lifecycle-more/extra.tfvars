from_files = ["var-file"]
