files = ["a.txt", "b.txt"]
