"""Compliance profiles on the samples: which servers meet or fail each
profile, in the JSON, text and HTML reports; --profile exit statuses; saved
evidence and merge give the same verdicts.

Expected verdicts are hand-derived: what each sample's ServerHello chose, as
tshark reads it (asserted first, so a changed sample cannot pass silently),
against the published lists: Mozilla 5.7 (ssl-config.mozilla.org/guidelines/
5.7.json), NIST SP 800-52r2 3.3.1, BSI TR-02102-2 Tables 1, 10, 11."""
import json
import os
import re
import shutil
import subprocess
import tempfile

from oracle import Suite, run_tlsgrade

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, "..", "..", "samples")
TMP = tempfile.mkdtemp(prefix="tlsgrade-profiles-")
PROFILES = ["mozilla-modern", "mozilla-intermediate", "mozilla-old", "nist-800-52r2",
            "bsi-tr-02102-2"]
SEEN = "meets what was seen"

# sample: (ServerHello (suite, supported_version, key-share group) as tshark
# prints them, sorted; verdict per profile in PROFILES order, and the item
# that fails first where one fails).
CASES = {
    # TLS 1.3 only, TLS_AES_256_GCM_SHA384 over x25519 (29), certificate
    # encrypted: no Mozilla list forbids any of it, nothing proves the rest;
    # x25519 is no SP 800-56A group (NIST) nor in TR-02102-2 Table 10 (BSI).
    "tls13-localhost": ([("0x1302", "0x0304", "29")],
                        [(SEEN, None), (SEEN, None), (SEEN, None), ("fails", "groups"),
                         ("fails", "groups")]),
    # TLS 1.2 RC4-MD5 and RC4-SHA: RC4 is in no list; modern allows no TLS 1.2.
    "rc4-only": ([("0x0004", "", ""), ("0x0005", "", "")],
                 [("fails", "versions"), ("fails", "suites"), ("fails", "suites"),
                  ("fails", "suites"), ("fails", "suites")]),
    # TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA (0xc012) beside AES-128-GCM: old
    # lists only TLS_RSA_WITH_3DES_EDE_CBC_SHA (0x000a), so all fail.
    "3des-tls12": ([("0xc012", "", ""), ("0xc02f", "", "")],
                   [("fails", "versions"), ("fails", "suites"), ("fails", "suites"),
                    ("fails", "suites"), ("fails", "suites")]),
}


def server_hellos(name):
    out = subprocess.run(["tshark", "-r", os.path.join(SAMPLES, name + ".pcap"), "-Y",
                          "tls.handshake.type==2", "-T", "fields", "-e",
                          "tls.handshake.ciphersuite", "-e",
                          "tls.handshake.extensions.supported_version", "-e",
                          "tls.handshake.extensions_key_share_group"],
                         check=True, capture_output=True, text=True).stdout
    return sorted(tuple(line.split("\t")) for line in out.splitlines())


def report(args, merge=False):
    rc, out, err = run_tlsgrade((["merge"] if merge else []) + ["--format", "json"] + args)
    return rc, json.loads(out) if rc in (0, 3, 4) else {}, err


def verdicts(server):
    got = []
    for p in server.get("profiles", []):
        failed = [i["id"] for i in p["items"] if i["status"] == "fail"]
        got.append((p["verdict"], failed[0] if failed else None))
        for i in p["items"]:
            if i["status"] != "unknown":
                ok = i["evidence"] and ":" in i["evidence"][0].get("sample", "")
                if not ok:
                    return None  # a decided item without its frame
    return got


def sample_verdicts(t, name):
    hellos, want = CASES[name]
    t.eq(server_hellos(name), hellos, name + ": the ServerHellos tshark reads")
    rc, doc, err = report([os.path.join(SAMPLES, name + ".pcap")])
    t.eq(rc, 0, "exit status: " + err)
    srv = doc.get("servers", [])
    t.eq(len(srv), 1, "one server")
    if srv:
        t.eq([p["id"] for p in srv[0].get("profiles", [])], PROFILES, "profile ids, in order")
        t.eq(verdicts(srv[0]), want, name + ": verdicts and first failed item")


def text_and_html(t):
    pcap = os.path.join(SAMPLES, "rc4-only.pcap")
    rc, out, err = run_tlsgrade(["--no-color", pcap])
    heads = [line for line in out.splitlines() if line.strip() == "compliance profiles:"]
    t.eq(len(heads), 1, "one profiles block: " + err)
    # One line per profile (a long one wraps: joined back here).
    block = out[out.index("compliance profiles:"):].split("\n   recommendations")[0]
    lines = [" ".join(block.split())]
    # The frame of the RC4-MD5 ServerHello, as tshark numbers it.
    frame = subprocess.run(["tshark", "-r", pcap, "-Y", "tls.handshake.type==2 && tls.handshake.ciphersuite==0x0004", "-T",
                            "fields", "-e", "frame.number"], check=True, capture_output=True,
                           text=True).stdout.split()[0]
    want = "mozilla-old fails (suites suite:TLS_RSA_WITH_RC4_128_MD5: %s:%s)" % (pcap, frame)
    for pid in PROFILES:
        t.check(re.search(r"^     %s +(fails|meets)" % re.escape(pid), block, re.M),
                "a line for %s" % pid)
    t.check(lines and want in lines[0], "text names the suite and its frame: %r" % lines)
    rc, out, err = run_tlsgrade(["--format", "html", pcap])
    t.check("<h3>Compliance profiles</h3>" in out and "Mozilla old (5.7)" in out, "HTML table")


def exit_status(t):
    tls13 = os.path.join(SAMPLES, "tls13-localhost.pcap")
    rc, _, err = run_tlsgrade(["--no-color", "--profile", "mozilla-modern", tls13])
    t.eq(rc, 0, "meets what was seen: status 0 " + err)
    rc, _, err = run_tlsgrade(["--no-color", "--profile", "bsi-tr-02102-2", tls13])
    t.eq(rc, 3, "fails: status 3")
    t.check("--profile bsi-tr-02102-2:" in err and "127.0.0.1" in err and "fails groups" in err,
            "stderr names the server and the item: " + err)
    rc, _, err = run_tlsgrade(["--no-color", "--profile", "mozilla-old",
                               os.path.join(SAMPLES, "rc4-only.pcap"), tls13])
    t.eq(rc, 3, "one server fails: status 3")
    t.eq(err.count("--profile mozilla-old:"), 1, "only the failing server named: " + err)
    rc, _, err = run_tlsgrade(["--no-color", "--profile", "mozilla", tls13])
    t.eq(rc, 2, "unknown profile: usage error")
    t.check("mozilla-intermediate" in err, "lists the profiles: " + err)
    # No server graded (the server's packets filtered out, its ClientHello
    # kept): status 4, as --fail-below.
    port = subprocess.run(["tshark", "-r", tls13, "-Y", "tls.handshake.type==2", "-T", "fields",
                           "-e", "tcp.srcport"], check=True, capture_output=True,
                          text=True).stdout.split()[0]
    hellos = os.path.join(TMP, "hellos.pcap")
    subprocess.run(["tshark", "-r", tls13, "-Y", "tcp.dstport==" + port, "-w", hellos],
                   check=True, capture_output=True)
    rc, out, err = run_tlsgrade(["--format", "json", hellos])
    t.eq(json.loads(out).get("hello_only", {}).get("servers"), 1, "its ClientHello is kept")
    rc, _, err = run_tlsgrade(["--no-color", "--profile", "mozilla-old", hellos])
    t.eq(rc, 4, "nothing graded: status 4 " + err)


def saved_evidence_and_merge(t):
    names = ["rc4-only", "3des-tls12", "tls13-localhost"]
    pcaps = [os.path.join(SAMPLES, n + ".pcap") for n in names]
    rc, whole, err = report(pcaps)
    t.eq(rc, 0, "one run: " + err)
    saved = []
    for i, pcap in enumerate(pcaps):
        path = os.path.join(TMP, "ev%d.json" % i)
        rc, _, err = report(["--save-evidence", path, pcap])
        t.eq(rc, 0, "save: " + err)
        saved.append(path)
    rc, merged, err = report(saved, merge=True)
    t.eq(rc, 0, "merge: " + err)

    def by_server(doc):
        return {(s["host"], s["ip"], s["port"]): s.get("profiles") for s in doc.get("servers", [])}
    t.check(by_server(whole) and by_server(whole) == by_server(merged),
            "merged evidence gives the same profiles, items and evidence")
    rc, _, err = run_tlsgrade(["merge", "--no-color", "--profile", "mozilla-old"] + saved)
    t.eq(rc, 3, "merge --profile: status 3 " + err)


def main():
    t = Suite()
    for name in CASES:
        t.run(sample_verdicts, name)
    for fn in (text_and_html, exit_status, saved_evidence_and_merge):
        t.run(fn)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
