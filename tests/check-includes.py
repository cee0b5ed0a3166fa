#!/usr/bin/env python3
"""The layering rule, checked: a source file includes its own folder's
headers, and of other folders only the public header of an earlier layer.

Layers, first to last (README "Design"): base/ (the bounded reader, hash,
hex digits, list, loading a library: they depend on nothing), capture/, dissect/, grade/, pipeline/, then
tlsgrade.c.  Tests, fuzz targets and benchmarks link the library whole and
may look inside.
Prints each violation as FILE:LINE: reason, and exits 1 when there is one.
"""
import pathlib
import re
import sys

LAYERS = ["base", "capture", "dissect", "grade", "pipeline"]
PUBLIC = {
    "base": {"base/rd.h", "base/hash.h", "base/list.h", "base/hex.h", "base/dl.h"},
    "capture": {"capture/capture.h"},
    "dissect": {"dissect/dissect.h"},
    "grade": {"grade/grade.h"},
    "pipeline": {"pipeline/pipeline.h"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(path):
    parts = path.parts
    if len(parts) == 1:
        return len(LAYERS)  # tlsgrade.c: the command line, knows every layer
    return LAYERS.index(parts[0]) if parts[0] in LAYERS else None


def check(root):
    problems = []
    files = [pathlib.Path("tlsgrade.c")]
    for folder in LAYERS:
        files += sorted(p.relative_to(root) for p in (root / folder).glob("*.[ch]"))
    for rel in files:
        own = layer_of(rel)
        folder = rel.parts[0] if len(rel.parts) > 1 else None
        text = (root / rel).read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            name = m.group(1)
            target = pathlib.Path(name)
            if len(target.parts) == 1:  # "x.h": the including file's own folder
                if folder is None:
                    problems.append(f"{rel}:{number}: '{name}' names no folder")
                continue
            if target.parts[0] == folder:
                continue
            other = layer_of(target)
            if other is None:
                problems.append(f"{rel}:{number}: '{name}' is outside the layers")
            elif other >= own:
                problems.append(f"{rel}:{number}: '{name}' is a later layer than {rel.parts[0]}/")
            elif name not in PUBLIC[target.parts[0]]:
                problems.append(f"{rel}:{number}: '{name}' is private to {target.parts[0]}/")
    return problems


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print(f"check-includes: {len(problems)} include(s) break the layering", file=sys.stderr)
        return 1
    print("check-includes: every include follows the layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
