#!/usr/bin/env python3
"""Generates a benchmark stack: N terraform_data resources spread over F files, each one
referencing the previous resource of its file, every tenth also a resource of another file.

Shapes: `strings` (the input is a string built by interpolation) and `objects` (the input is a
small object built with merge() from a per-file local, a list index and numbers, as real
stacks build tags and settings)."""
import os
import sys

def strings(f, per):
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
    return lines

def objects(f, per):
    lines = [
        f'locals {{\n  zones_{f} = ["zone-a", "zone-b", "zone-c"]\n'
        f'  base_{f}  = {{ team = "platform", env = "bench", file = {f}, weight = 0.5 }}\n}}\n'
    ]
    for i in range(per):
        name = f"r_{f}_{i}"
        fields = [f'name = "{name}"', f"zone = local.zones_{f}[{i % 3}]", f"index = {i}"]
        if i > 0:
            fields.append(f"prev = terraform_data.r_{f}_{i-1}.output.name")
            fields.append(f"depth = terraform_data.r_{f}_{i-1}.output.index + 1")
        if i % 10 == 0 and f > 0:
            fields.append(f"other = terraform_data.r_{f-1}_{i}.id")
        body = ", ".join(fields)
        lines.append(f'resource "terraform_data" "{name}" {{\n  input = merge(local.base_{f}, {{ {body} }})\n}}\n')
    return lines

def main(out, n=10000, files=200, shape="strings"):
    os.makedirs(out, exist_ok=True)
    per = n // files
    make = {"strings": strings, "objects": objects}[shape]
    for f in range(files):
        with open(os.path.join(out, f"file_{f:03}.tf"), "w") as fh:
            fh.write("\n".join(make(f, per)))

if __name__ == "__main__":
    a = sys.argv
    main(a[1], int(a[2]) if len(a) > 2 else 10000, int(a[3]) if len(a) > 3 else 200, a[4] if len(a) > 4 else "strings")
