#!/usr/bin/env python3
"""README's table of checks names every check the report grades, once,
with the effect the report gives it (issue: the checks in the README's
table of checks)."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle import TOP, Suite, run_tlsgrade  # noqa: E402

EFFECT = {"cap": "caps at %s", "trust": "T", "name": "M", "warning": "A-",
          "no_a_plus": "no A+", "info": "information"}


def table(t):
    readme = open(os.path.join(TOP, "README.md"), encoding="utf-8").read()
    start = readme.index("### The checks")
    rows = re.findall(r"^\| `([a-z0-9_]+)` \| ([^|]+) \| ([^|]+) \|", readme[start:], re.M)
    rc, out, err = run_tlsgrade(["--format", "json",
                                 os.path.join(TOP, "samples", "export-rsa.pcap")])
    t.eq(rc, 0, "graded: " + err)
    checks = json.loads(out)["servers"][0]["checks"] if rc == 0 else []
    t.eq([r[0] for r in rows][:len(checks)], [c["id"] for c in checks],
         "every check, in the report's order")
    for (cid, title, effect), c in zip(rows, checks):
        t.eq(title.strip(), c["title"], "%s: the report's title" % cid)
        want = EFFECT[c["effect"]] % c.get("cap") if c["effect"] == "cap" else EFFECT[c["effect"]]
        t.eq(effect.strip(), want, "%s: what a failure does" % cid)


if __name__ == "__main__":
    suite = Suite()
    suite.run(table)
    suite.done()
