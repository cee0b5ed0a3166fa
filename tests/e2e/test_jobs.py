"""-j N: worker threads give the same answers as one thread.

Every corpus capture and sample at once: the same --handshakes lines and
--flows lines (in any order: workers finish in their own order), and the
same graded servers and totals."""
import json
import os

from oracle import CORPUS, TOP, Suite, run_tlsgrade

INPUTS = [os.path.join(TOP, "samples"), os.path.join(CORPUS, "pcaps")]
CA = ["--ca-file", os.path.join(TOP, "samples", "certs", "root.pem")]


def normalised(text):
    """Lines as comparable objects.  A flow's "end" reason may differ: each
    worker ages its flows by the times of the packets it sees."""
    out = []
    for line in text.splitlines():
        o = json.loads(line)
        o.pop("end", None)
        out.append(json.dumps(o, sort_keys=True))
    return sorted(out)


def same_lines(t, mode):
    rc1, one, _ = run_tlsgrade([mode] + INPUTS)
    for jobs in ("2", "3"):
        rcj, many, err = run_tlsgrade([mode, "-j", jobs] + INPUTS)
        t.eq(rcj, rc1, "%s -j %s exit status (%s)" % (mode, jobs, err[-200:]))
        a, b = normalised(one), normalised(many)
        t.eq(len(b), len(a), "%s -j %s: as many lines" % (mode, jobs))
        t.eq([x for x in b if x not in a][:3], [], "%s -j %s: lines one thread lacks" % (mode, jobs))
        t.check(a == b, "%s -j %s: the same lines" % (mode, jobs))
    t.check(len(one.splitlines()) > 100, "%s printed its lines" % mode)


def handshakes(t):
    same_lines(t, "--handshakes")


def flows(t):
    same_lines(t, "--flows")


def grading(t):
    rc1, one, _ = run_tlsgrade(["--format", "json"] + CA + INPUTS)
    rc2, two, err = run_tlsgrade(["--format", "json", "-j", "2"] + CA + INPUTS)
    t.eq(rc2, rc1, "exit status: " + err[-200:])
    a, b = json.loads(one), json.loads(two)
    t.eq(b["servers"], a["servers"], "same servers, grades, checks and evidence")
    t.eq(b["stats"], a["stats"], "same totals")


def main():
    t = Suite()
    for fn in (handshakes, flows, grading):
        t.run(fn)
    t.done()


main()
