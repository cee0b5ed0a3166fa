"""--keylog: decryption agrees with tshark given the same key log, and HSTS
seen in decrypted HTTP makes A+ reachable.

Expected values come from outside tlsgrade:
- the HTTP responses (frame, Strict-Transport-Security) and the TLS 1.3
  certificates (frame, SHA-256 of the DER) tshark decrypts with the same
  key log;
- the decrypted rows of the corpus reference files (expected/*.tshark.tsv,
  made by tshark with keys/NAME.keylog): certificates, alerts, tickets;
- the grades of samples/expected.json (derived by hand: a-grade is case 2
  without the key log and case 1, A+, with it).
"""
import csv
import hashlib
import json
import os
import subprocess
import tempfile

from oracle import CORPUS, TOP, Suite, endpoint, run_tlsgrade

SAMPLES = os.path.join(TOP, "samples")
CA = os.path.join(SAMPLES, "certs", "root.pem")
PCAP = os.path.join(SAMPLES, "a-grade.pcap")
KEYLOG = os.path.join(SAMPLES, "a-grade.keylog")


def tshark(args):
    p = subprocess.run(["tshark", "-n"] + args, capture_output=True, timeout=300)
    return p.stdout.decode("utf-8", "replace")


def handshakes(pcap, *keylogs):
    args = ["--handshakes"]
    for k in keylogs:
        args += ["--keylog", k]
    rc, out, err = run_tlsgrade(args + [pcap])
    return rc, [json.loads(l) for l in out.splitlines()], err


def expected_server(sample):
    doc = json.load(open(os.path.join(SAMPLES, "expected.json")))
    for s in doc["samples"]:
        if s["file"] == sample:
            return s["servers"][0]
    raise KeyError(sample)


def grade(*extra):
    rc, out, err = run_tlsgrade(["--format", "json", "--ca-file", CA] + list(extra) + [PCAP])
    doc = json.loads(out) if out.strip() else {"servers": [], "stats": {}}
    return rc, doc, err


def check_status(server, check_id):
    for c in server["checks"]:
        if c["id"] == check_id:
            return c["status"]
    return None


def a_grade_with_and_without(t):
    """Section 5 case 1 (HSTS seen: A+) and case 2 (not seen: A)."""
    want = expected_server("a-grade.pcap")
    rc, doc, err = grade()
    t.eq(rc, 0, "exit status without key log: " + err)
    t.eq([s["grade"] for s in doc["servers"]], [want["grade"]], "grade without key log")
    t.eq(check_status(doc["servers"][0], "hsts"), "unknown", "hsts without key log")
    rc, doc, err = grade("--keylog", KEYLOG)
    t.eq(rc, 0, "exit status with key log: " + err)
    t.eq([s["grade"] for s in doc["servers"]], [want["grade_with_keylog"]], "grade with key log")
    server = doc["servers"][0]
    for check in ("hsts", "hsts_bad", "hpkp_bad", "no_tls13", "no_secure_reneg"):
        t.eq(check_status(server, check), "pass", check + " with key log")
    t.eq(doc["stats"].get("decryption", {}).get("decrypted"), 4, "four connections decrypted")


def tshark_http(pcap, keylog):
    """{frame: Strict-Transport-Security value or None} of tshark's responses."""
    out = tshark(["-r", pcap, "-o", "tls.keylog_file:" + keylog, "-Y", "http.response",
                  "-T", "fields", "-E", "occurrence=a", "-e", "frame.number",
                  "-e", "http.response.line"])
    seen = {}
    for line in out.splitlines():
        frame, _, lines = line.partition("\t")
        sts = None
        for h in lines.split(","):
            name, _, value = h.partition(":")
            if name.strip().lower() == "strict-transport-security":
                sts = value.strip().replace("\\r\\n", "")
        seen[int(frame)] = sts
    return seen


def http_like_tshark(t):
    """Each response's frame and HSTS value equal tshark's."""
    want = tshark_http(PCAP, KEYLOG)
    t.check(len(want) == 4, "tshark sees four responses: %r" % want)
    rc, conns, err = handshakes(PCAP, KEYLOG)
    got = {}
    for c in conns:
        t.eq(c.get("decryption", {}).get("status"), "ok", "decryption of %s" % c["client"])
        for r in c.get("http", []):
            got[r["frame"]] = r.get("strict_transport_security")
    t.eq(got, want, "HTTP responses (frame: HSTS)")


def tls13_certificates_like_tshark(t):
    """The certificates tshark decrypts: same frames, same DER."""
    out = tshark(["-r", PCAP, "-o", "tls.keylog_file:" + KEYLOG, "-Y",
                  "tls.handshake.type == 11", "-T", "fields", "-e", "frame.number",
                  "-e", "tls.handshake.certificate"])
    want = {}
    for line in out.splitlines():
        frame, _, certs = line.partition("\t")
        want[int(frame)] = [hashlib.sha256(bytes.fromhex(c.replace(":", ""))).hexdigest()
                            for c in certs.split(",") if c]
    rc, conns, err = handshakes(PCAP, KEYLOG)
    got = {c["frames"]["certificate"]: [x["sha256"] for x in c["cert_chain"]]
           for c in conns if c.get("cert_chain")}
    t.eq(got, want, "certificate frames and chains")
    v13 = [c for c in conns if c["version"] == "TLSv1.3"]
    t.check(len(v13) == 2 and all(c["cert_chain"] for c in v13),
            "both TLS 1.3 chains are read")
    rc, plain, err = handshakes(PCAP)
    t.eq([len(c["cert_chain"]) for c in plain if c["version"] == "TLSv1.3"], [0, 0],
         "without the key log the TLS 1.3 chains stay hidden")


def with_temp_keylog(lines):
    f = tempfile.NamedTemporaryFile("w", suffix=".keylog", delete=False)
    f.write("".join(lines))
    f.close()
    return f.name


def wrong_keylog(t):
    """One byte of every secret changed: decryption fails on every
    connection, is counted, HSTS stays unknown, nothing crashes."""
    bad = []
    for line in open(KEYLOG):
        parts = line.split()
        if len(parts) == 3 and not line.startswith("#"):
            secret = parts[2]
            flipped = ("1" if secret[0] == "0" else "0") + secret[1:]
            line = "%s %s %s\n" % (parts[0], parts[1], flipped)
        bad.append(line)
    path = with_temp_keylog(bad)
    try:
        rc, doc, err = grade("--keylog", path)
        t.eq(rc, 0, "exit status")
        t.check("Sanitizer" not in err, "no sanitizer report: " + err[-300:])
        t.check("decryption failed on 4 connection" in err, "stderr says so: " + err)
        t.eq(doc["stats"].get("decryption", {}).get("failed"), 4, "failures counted")
        t.eq([s["grade"] for s in doc["servers"]], ["A"], "grade as without a key log")
        t.eq(check_status(doc["servers"][0], "hsts"), "unknown", "hsts unknown")
        rc, conns, err = handshakes(PCAP, path)
        t.eq([c["decryption"]["status"] for c in conns], ["failed"] * 4, "per connection")
        t.eq([len(c["cert_chain"]) for c in conns if c["version"] == "TLSv1.3"], [0, 0],
             "no TLS 1.3 certificate from wrong keys")
    finally:
        os.unlink(path)


def split_keylogs_and_bad_lines(t):
    """--keylog twice (TLS 1.3 secrets in one file, TLS 1.2 in the other),
    with a bad line: a warning names it, the grade is still A+."""
    lines = open(KEYLOG).readlines()
    v13 = [l for l in lines if not l.startswith("CLIENT_RANDOM")] + ["not a key log line\n"]
    v12 = [l for l in lines if l.startswith("CLIENT_RANDOM")]
    a, b = with_temp_keylog(v13), with_temp_keylog(v12)
    try:
        rc, doc, err = grade("--keylog", a, "--keylog", b)
        t.eq(rc, 0, "exit status")
        t.check("1 line(s) not in key log format" in err, "bad line warned: " + err)
        t.eq([s["grade"] for s in doc["servers"]], ["A+"], "grade with both halves")
        rc, doc, err = grade("--keylog", b)
        t.eq(doc["stats"]["decryption"]["decrypted"], 2, "TLS 1.2 half: two connections")
        t.eq(doc["stats"]["decryption"]["no_keys"], 2, "TLS 1.3 half missing: two without keys")
    finally:
        os.unlink(a)
        os.unlink(b)


def unreadable_keylog(t):
    rc, out, err = run_tlsgrade(["--keylog", "/nonexistent/keys.log", PCAP])
    t.eq(rc, 1, "exit status")
    t.check(err.count("\n") == 1 and "/nonexistent/keys.log" in err, "one clear line: " + err)
    rc, out, err = run_tlsgrade(["merge", "--keylog", KEYLOG, PCAP])
    t.eq(rc, 2, "merge refuses --keylog")


def read_tsv(name):
    path = os.path.join(CORPUS, "expected", name + ".tshark.tsv")
    lines = [l for l in open(path, encoding="utf-8") if not l.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def info(row):
    return dict(p.split("=", 1) for p in row["info"].split(";") if "=" in p)


def corpus_capture(t, name):
    """What tshark decrypted with the corpus key log (rows decrypted=1):
    certificates, alerts, the first ticket, per connection."""
    keylog = os.path.join(CORPUS, "keys", name + ".keylog")
    rc, conns, err = handshakes(os.path.join(CORPUS, "pcaps", name), keylog)
    t.check(rc == 0 and "Sanitizer" not in err, name + " ran: " + err[-300:])
    rows = read_tsv(name)
    streams = {}
    for r in rows:
        streams.setdefault(int(r["stream"]), []).append(r)
    for stream, rs in sorted(streams.items()):
        ends = {endpoint(rs[0]["src"], rs[0]["sport"]), endpoint(rs[0]["dst"], rs[0]["dport"])}
        ours = [c for c in conns if {c["client"], c["server"]} == ends]
        if not t.check(len(ours) == 1, "%s stream %d: one connection" % (name, stream)):
            continue
        c = ours[0]
        what = "%s stream %d" % (name, stream)
        t.eq(c.get("decryption", {}).get("status"), "ok", what + " decryption")
        dec = [r for r in rs if r["decrypted"] == "1"]
        certs = [r for r in dec if r["msg"] == "certificate" and r["cert_sha256"]
                 and endpoint(r["src"], r["sport"]) == c["server"]]
        if certs:
            t.eq([x["sha256"] for x in c["cert_chain"]], [r["cert_sha256"] for r in certs],
                 what + " decrypted chain")
            t.eq(c["frames"].get("certificate"), int(certs[0]["frame"]), what + " chain frame")
            t.eq(c["cert_chain"][0]["subject_cn"], certs[0]["cert_subject_cn"], what + " CN")
        want_alerts = [(int(r["frame"]),
                        "client" if endpoint(r["src"], r["sport"]) == c["client"] else "server",
                        int(info(r)["level"]), int(info(r)["desc"]))
                       for r in dec if r["msg"] == "alert"]
        got_alerts = [(a["frame"], a["from"], {"warning": 1, "fatal": 2}.get(a.get("level")),
                       a.get("desc")) for a in c["alerts"] if a.get("decrypted")]
        t.eq(got_alerts, want_alerts, what + " decrypted alerts")
        tickets = [r for r in rs if r["msg"] == "new_session_ticket"]
        if tickets:
            i = info(tickets[0])
            nt = c.get("session_ticket", {})
            t.eq((nt.get("frame"), nt.get("lifetime_hint"), nt.get("length")),
                 (int(tickets[0]["frame"]), int(i["lifetime_hint"]), int(i["ticket_length"])),
                 what + " first ticket")


def main():
    t = Suite()
    t.run(a_grade_with_and_without)
    t.run(http_like_tshark)
    t.run(tls13_certificates_like_tshark)
    t.run(wrong_keylog)
    t.run(split_keylogs_and_bad_lines)
    t.run(unreadable_keylog)
    keys = os.path.join(CORPUS, "keys")
    for f in sorted(os.listdir(keys)) if os.path.isdir(keys) else []:
        if f.endswith(".keylog"):
            t.run(corpus_capture, f[:-len(".keylog")])
    t.done()


main()
