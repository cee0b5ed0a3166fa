"""The grading command line: formats, -o, --fail-below, evidence save and
merge (a run in pieces equals the run in one go), and honest reports for
captures that give nothing to grade."""
import html.parser
import json
import os
import shutil
import subprocess
import tempfile

from oracle import CORPUS, Suite, run_tlsgrade

TMP = tempfile.mkdtemp(prefix="tlsgrade-grade-")
PCAPS = os.path.join(CORPUS, "pcaps")
PART_A = [os.path.join(PCAPS, n) for n in ("zeek__tls1_1.pcap", "zeek__dhe.pcap",
                                             "arkime__openssl-ssl3.pcap")]
PART_B = [os.path.join(PCAPS, n) for n in ("zeek__tls-expired-cert.pcap", "ndpi__tls_alert.pcap",
                                             "arkime__openssl-tls1.pcap")]


def servers(text):
    doc = json.loads(text)
    return doc["servers"]


def json_report(t):
    rc, out, err = run_tlsgrade(["--format", "json"] + PART_A)
    t.eq(rc, 0, "exit status: " + err)
    doc = json.loads(out)
    for key in ("tool", "inputs", "servers", "limits", "stats"):
        t.check(key in doc, "top-level key " + key)
    t.eq(len(doc["inputs"]), 3, "inputs")
    for s in doc["servers"]:
        for key in ("host", "ip", "port", "grade", "score", "caps", "checks", "protocols",
                    "ciphers", "certificates", "recommendations"):
            t.check(key in s, "server key " + key)
        for c in s["checks"]:
            t.check(c["status"] in ("pass", "fail", "unknown"), "check status " + c["status"])
            if c["status"] != "unknown":
                t.check(c["evidence"] and ":" in c["evidence"][0].get("sample", ""),
                        "decided check %s has a file:frame sample" % c["id"])
    # arkime__openssl-ssl3: SSLv3 with ECDHE-RSA-RC4-128-SHA (corpus manifest):
    # caps ssl3 (B) and rc4 (B) must be reported with their evidence.
    ssl3 = [s for s in doc["servers"] if any(p["value"] == "SSLv3" for p in s["protocols"])]
    t.eq(len(ssl3), 1, "one SSLv3 server")
    if ssl3:
        caps = {c["id"] for c in ssl3[0]["caps"]}
        t.check({"ssl3", "rc4"} <= caps, "ssl3 and rc4 caps: %r" % caps)
        t.check(ssl3[0]["grade"] not in ("A+", "A", "A-"), "SSLv3 server below A")


def merge_equals_one_run(t):
    ev_a, ev_b = os.path.join(TMP, "a.json"), os.path.join(TMP, "b.json")
    rc, _, err = run_tlsgrade(["--format", "json", "--save-evidence", ev_a] + PART_A)
    t.eq(rc, 0, "run A: " + err)
    rc, _, err = run_tlsgrade(["--format", "json", "--save-evidence", ev_b] + PART_B)
    t.eq(rc, 0, "run B: " + err)
    rc, whole, err = run_tlsgrade(["--format", "json"] + PART_A + PART_B)
    t.eq(rc, 0, "one run: " + err)
    rc, ab, err = run_tlsgrade(["merge", "--format", "json", ev_a, ev_b])
    t.eq(rc, 0, "merge A B: " + err)
    rc, ba, err = run_tlsgrade(["merge", "--format", "json", ev_b, ev_a])
    t.eq(rc, 0, "merge B A: " + err)
    t.eq(servers(ab), servers(whole), "merge(A, B) equals one run over A and B")
    t.eq(servers(ba), servers(ab), "merge is commutative")
    rc, out, err = run_tlsgrade(["merge", os.path.join(TMP, "missing.json")])
    t.eq(rc, 1, "merge of a missing file fails")
    bad = os.path.join(TMP, "bad.json")
    open(bad, "w").write('{"tlsgrade_evidence": 99, "endpoints": []}')
    rc, out, err = run_tlsgrade(["merge", bad])
    t.eq(rc, 1, "merge of a future evidence version fails")
    t.check("version" in err, "names the version problem: " + err)


def verdicts(doc):
    """What grading decided, without where the samples were (file:frame
    differs between a capture and its halves)."""
    out = {}
    for s in doc["servers"]:
        out[(s["host"], s["ip"], s["port"])] = (
            s["grade"], s["floor"], json.dumps(s["score"], sort_keys=True),
            sorted(c["id"] for c in s["caps"]),
            sorted((c["id"], c["status"], tuple(e["count"] for e in c["evidence"]))
                   for c in s["checks"]))
    return out


def merge_halves_equals_whole(t):
    """One capture cut in two between its connections (tshark: stream 1
    starts after stream 0 ended), graded apart and merged."""
    whole = os.path.join(PCAPS, "zeek__tls-expired-cert.pcap")
    first = subprocess.run(["tshark", "-r", whole, "-Y", "tcp.stream==1", "-T", "fields",
                            "-e", "frame.number"], capture_output=True, text=True).stdout.split()
    cut = int(first[0])
    a, b = os.path.join(TMP, "half-a.pcap"), os.path.join(TMP, "half-b.pcap")
    subprocess.run(["editcap", "-r", whole, a, "1-%d" % (cut - 1)], check=True, capture_output=True)
    subprocess.run(["editcap", "-r", whole, b, "%d-1000000" % cut], check=True, capture_output=True)
    ev_a, ev_b = os.path.join(TMP, "ha.json"), os.path.join(TMP, "hb.json")
    for pcap, ev in ((a, ev_a), (b, ev_b)):
        rc, _, err = run_tlsgrade(["--format", "json", "--save-evidence", ev, pcap])
        t.eq(rc, 0, "half %s: %s" % (pcap, err))
    rc, merged, err = run_tlsgrade(["merge", "--format", "json", ev_a, ev_b])
    t.eq(rc, 0, "merge: " + err)
    rc, one, err = run_tlsgrade(["--format", "json", whole])
    t.eq(rc, 0, "whole: " + err)
    t.eq(verdicts(json.loads(merged)), verdicts(json.loads(one)), "merged halves grade like the whole")
    t.eq(len(verdicts(json.loads(one))), 2, "two servers")


def html_report(t):
    path = os.path.join(TMP, "r.html")
    rc, out, err = run_tlsgrade(["--format", "html", "-o", path] + PART_A)
    t.eq(rc, 0, "exit status: " + err)
    page = open(path, encoding="utf-8").read()
    t.check("Content-Security-Policy" in page and "default-src 'none'" in page, "CSP")
    t.check("<script" not in page.lower(), "no script")
    html.parser.HTMLParser().feed(page)
    t.check("zeek__dhe.pcap" in page, "evidence names the capture")


def fail_below(t):
    expired = os.path.join(PCAPS, "zeek__tls-expired-cert.pcap")
    rc, out, err = run_tlsgrade(["--no-color", "--fail-below", "B", expired])
    t.eq(rc, 3, "a server below B (expired certificate: T) gives exit status 3")
    rc, out, err = run_tlsgrade(["--no-color", "--fail-below", "Z", expired])
    t.eq(rc, 2, "an invalid grade is a usage error")
    rc, out, err = run_tlsgrade(["--format", "yaml", expired])
    t.eq(rc, 2, "an unknown format is a usage error")


def text_report(t):
    rc, out, err = run_tlsgrade(["--no-color"] + PART_A)
    t.eq(rc, 0, "exit status")
    t.check("HOST (SNI)" in out and "GRADE" in out, "summary table header")
    t.check("\033[" not in out, "no colour with --no-color")
    t.check("recommendations" in out, "recommendations")


def only_client_hellos(t):
    """The server never answers: the endpoint decides no check, so it is
    not graded but folded with those seen only in ClientHellos, its
    connections counted (the ClientHellos and SNI as tshark reads them)."""
    src = os.path.join(PCAPS, "zeek__tls1_1.pcap")
    out_pcap = os.path.join(TMP, "client-only.pcap")
    subprocess.run(["tshark", "-r", src, "-Y", "ip.src==192.168.17.58", "-w", out_pcap],
                   check=True, capture_output=True)
    hellos = subprocess.run(["tshark", "-r", out_pcap, "-Y", "tls.handshake.type==1", "-T",
                             "fields", "-e", "tls.handshake.extensions_server_name"],
                            check=True, capture_output=True, text=True).stdout.splitlines()
    rc, out, err = run_tlsgrade(["--format", "json", out_pcap])
    t.eq(rc, 0, "exit status: " + err)
    t.eq(servers(out), [], "no server graded or listed")
    hello = json.loads(out).get("hello_only", {}) if rc == 0 else {}
    t.eq((hello.get("servers"), hello.get("connections")), (1, len(hellos)), "folded, counted")
    t.eq([e.get("host") for e in hello.get("most_seen", [])], sorted(set(h or "-" for h in hellos)),
         "its name (\"-\": no SNI)")
    rc, out, err = run_tlsgrade(["--no-color", out_pcap])
    t.check("1 server seen only in ClientHellos" in out, "the text report says so: " + out[:300])


def no_tls(t):
    """A capture with no TLS at all: an honest empty report."""
    out_pcap = os.path.join(TMP, "no-tls.pcap")
    src = os.path.join(PCAPS, "zeek__tls1_1.pcap")
    subprocess.run(["tshark", "-r", src, "-Y", "tcp.len==0", "-w", out_pcap], check=True,
                   capture_output=True)
    rc, out, err = run_tlsgrade(["--no-color", out_pcap])
    t.eq(rc, 0, "exit status")
    t.check("no TLS server seen" in out, "says there is nothing to grade: " + out[:200])


def main():
    t = Suite()
    for fn in (json_report, merge_equals_one_run, merge_halves_equals_whole, html_report, fail_below, text_report,
               only_client_hellos, no_tls):
        t.run(fn)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
