#!/usr/bin/env python3
"""Generates the benchmark stack: N terraform_data resources spread over F files, each one
referencing the previous resource of its file, every tenth also a resource of another file."""
import os
import sys

def main(out, n=10000, files=200):
    os.makedirs(out, exist_ok=True)
    per = n // files
    for f in range(files):
        lines = []
        for i in range(per):
            name = f"r_{f}_{i}"
            if i == 0:
                inp = f'"seed-{f}"'
            elif i % 10 == 0 and f > 0:
                inp = f'"${{terraform_data.r_{f}_{i-1}.output}}-${{terraform_data.r_{f-1}_{i}.id}}"'
            else:
                inp = f'"${{terraform_data.r_{f}_{i-1}.output}}+"' if i % 5 else f'terraform_data.r_{f}_{i-1}.output'
            lines.append(f'resource "terraform_data" "{name}" {{\n  input = {inp}\n}}\n')
        with open(os.path.join(out, f"file_{f:03}.tf"), "w") as fh:
            fh.write("\n".join(lines))

if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10000, int(sys.argv[3]) if len(sys.argv) > 3 else 200)
