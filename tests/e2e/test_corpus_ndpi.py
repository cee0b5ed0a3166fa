"""Client fingerprints agree with nDPI's expected output.

nDPI's test results (../shared/corpus/expected/*.ndpi.out, nDPI 4.11) give
per flow the JA3 of the client hello (JA3C) and its JA4.  One documented
difference: for a hello without an SNI extension nDPI writes 'd' as the
fourth JA4 character when it learned a host name elsewhere; the JA4
specification (FoxIO JA4.md) says 'i' when the hello carries no SNI, and
tlsgrade follows the specification, so that character is compared against
the hello's own SNI instead.
"""
import json
import os
import re

from oracle import CORPUS, Suite, run_tlsgrade

FLOW = re.compile(r"\b(TCP|UDP) (\S+) <-> (\S+) \[")


def ndpi_flows(path):
    out = []
    for line in open(path, encoding="utf-8", errors="replace"):
        m = FLOW.search(line)
        if not m:
            continue
        ja3 = re.search(r"\[JA3C: ([0-9a-f]{32})\]", line)
        ja4 = re.search(r"\[JA4: ([0-9a-z_]+)\]", line)
        if ja3 or ja4:
            out.append((m.group(1).lower(), {m.group(2), m.group(3)},
                        ja3.group(1) if ja3 else None, ja4.group(1) if ja4 else None))
    return out


def compare(t, name):
    rc, out, err = run_tlsgrade(["--handshakes", os.path.join(CORPUS, "pcaps", name)])
    ours = [json.loads(l) for l in out.splitlines()]
    flows = ndpi_flows(os.path.join(CORPUS, "expected", name + ".ndpi.out"))
    for l4, ends, ja3, ja4 in flows:
        what = "%s %s" % (name, sorted(ends))
        match = [o for o in ours if {o["client"], o["server"]} == ends]
        if not t.check(len(match) == 1, what + ": one --handshakes line"):
            continue
        o = match[0]
        if ja3:
            t.eq(o.get("ja3"), ja3, what + " ja3")
        if ja4 and not o.get("quic"):
            got = o.get("ja4", "")
            sni_letter = "d" if o.get("sni") else "i"
            t.eq(got[:3] + got[4:], ja4[:3] + ja4[4:], what + " ja4")
            t.eq(got[3:4], sni_letter, what + " ja4 SNI letter follows the hello")


def main():
    t = Suite()
    names = sorted(f[:-len(".ndpi.out")] for f in os.listdir(os.path.join(CORPUS, "expected"))
                   if f.endswith(".ndpi.out"))
    for name in names:
        t.run(compare, name)
    t.done()


main()
