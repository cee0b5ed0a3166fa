"""-j N: worker threads give the same answers as one thread.

Every corpus capture and sample at once: the same --handshakes lines and
--flows lines (in any order: workers finish in their own order), and the
same graded servers and totals."""
import json
import os
import shutil
import tempfile

from oracle import CORPUS, TOP, Suite, run_tlsgrade
from pcapgen import Conversation, client_hello, write_pcap

INPUTS = [os.path.join(TOP, "samples"), os.path.join(CORPUS, "pcaps")]
CA = ["--ca-file", os.path.join(TOP, "samples", "certs", "root.pem")]


def normalised(text, keep_end=False):
    """Lines as comparable objects.  Across unrelated captures packet time
    jumps back and forth, and one thread's idle check (oldest activity
    first) then stops at a flow another worker would not hold: a flow's
    "end" reason may differ there, so it is left out."""
    out = []
    for line in text.splitlines():
        o = json.loads(line)
        if not keep_end:
            o.pop("end", None)
        out.append(json.dumps(o, sort_keys=True))
    return sorted(out)


def idle_ends(t):
    """One capture whose time only goes forward: 60 connections a second
    apart, none closed; with --idle-timeout 5 each ends by idle timeout
    when a later packet (of any flow, in any worker) passes its time, the
    last ones at the end of input: each flow's end reason and the totals
    must be what one thread says."""
    tmp = tempfile.mkdtemp(prefix="tlsgrade-jobs-")
    frames = []
    for i in range(60):
        conv = Conversation("10.9.%d.%d" % (i // 200, i % 200 + 1), 40000 + i, "10.9.9.9", 443,
                            1700000000.0 + i)
        conv.handshake()
        conv.client_sends(client_hello(sni=b"jobs.example"))
        frames += conv.frames
    pcap = os.path.join(tmp, "idle.pcap")
    write_pcap(pcap, frames)
    rc1, one, _ = run_tlsgrade(["--flows", "--idle-timeout", "5", pcap])
    ends = [json.loads(x).get("end") for x in one.splitlines() if '"stats"' not in x]
    t.check("idle" in ends and "end_of_input" in ends, "both end reasons occur: %r" % set(ends))
    for jobs in ("2", "3"):
        rcj, many, err = run_tlsgrade(["--flows", "--idle-timeout", "5", "-j", jobs, pcap])
        t.eq(rcj, rc1, "-j %s exit status (%s)" % (jobs, err[-200:]))
        a, b = normalised(one, keep_end=True), normalised(many, keep_end=True)
        differ = [x for x in b if x not in a]
        t.check(a == b, "-j %s: every flow line, end reason included, and the totals "
                "(%d differ; first: %s)" % (jobs, len(differ), differ[0][:300] if differ else "-"))
    shutil.rmtree(tmp, ignore_errors=True)


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


def queued_from_stdin(t):
    """stdin cannot be read twice: one reader hands packets to the workers
    through queues.  The same answers as one thread."""
    path = os.path.join(TOP, "samples", "demo-cloud-consoles.pcap")
    data = open(path, "rb").read()
    for mode in ("--handshakes", "--flows"):
        rc1, one, _ = run_tlsgrade([mode, path])
        rc2, two, err = run_tlsgrade([mode, "-j", "2", "-"], stdin=data)
        t.eq(rc2, rc1, "%s from stdin, -j 2: exit status (%s)" % (mode, err[-200:]))
        a = [x.replace(path, "stdin") for x in normalised(one)]
        t.check(sorted(a) == normalised(two), "%s from stdin, -j 2: the same lines" % mode)
        t.check(len(a) > 10, "%s printed its lines" % mode)
    rc1, one, _ = run_tlsgrade(["--format", "json"] + CA + [path])
    rc2, two, err = run_tlsgrade(["--format", "json", "-j", "2"] + CA + ["-"], stdin=data)
    t.eq(rc2, rc1, "graded from stdin, -j 2: exit status")
    a, b = json.loads(one.replace(path, "stdin")), json.loads(two)
    t.eq(b["servers"], a["servers"], "graded from stdin, -j 2: the same servers")


def main():
    t = Suite()
    for fn in (handshakes, flows, grading, idle_ends, queued_from_stdin):
        t.run(fn)
    t.done()


main()
