"""The five-day cloud-console demo (samples/demo/, written by
samples/craft_demo.py) tells its story: four consoles; delta graded F on
days 1-2 and A from day 3, with the date of the change and the frames that
disagree; every finding of the seed study a failed check on its console,
with an evidence frame that tshark reads as that finding; no console T for
want of trust with --ca-file.

The oracles are independent of tlsgrade: the grades and caps are
samples/expected.json's hand-derived "demo" section; the frames are read
with tshark (decrypted with the demo's key log where HTTP is concerned)
and compared with the RFC code points of each finding; the change date is
the time tshark gives the first ServerHello of delta on day 3."""
import datetime
import filecmp
import json
import os
import shutil
import subprocess
import tempfile

from oracle import TOP, Suite, run_tlsgrade

SAMPLES = os.path.join(TOP, "samples")
DEMO = os.path.join(SAMPLES, "demo")
CA = os.path.join(SAMPLES, "certs", "root.pem")
KEYLOG = os.path.join(SAMPLES, "demo.keylog")
EXPECTED = json.load(open(os.path.join(SAMPLES, "expected.json")))["demo"]
GRADING_EFFECTS = {"cap", "trust", "name", "warning"}

SHA1_RSA = "1.2.840.113549.1.1.5"  # sha1WithRSAEncryption (RFC 3279 2.2.1)
RSA_KX_SUITES = {"0x009c", "0x009d", "0x002f", "0x0035"}  # TLS_RSA_WITH_* (RFC 5246, 5288)


def tshark(path, frame, *fields, keylog=False):
    """The fields of one frame, each a list of its values."""
    args = ["tshark", "-r", path, "-Y", "frame.number==%d" % frame, "-T", "fields",
            "-E", "occurrence=a", "-E", "aggregator=|"]
    if keylog:
        args += ["-o", "tls.keylog_file:" + KEYLOG]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    values = (out.splitlines() or [""])[0].split("\t")
    return [v.split("|") if v else [] for v in values + [""] * (len(fields) - len(values))]


def report():
    rc, out, err = run_tlsgrade(["--format", "json", "--ca-file", CA, "--keylog", KEYLOG, DEMO])
    return rc, json.loads(out) if rc == 0 else {"servers": []}, err


def evidence(server, check_id):
    """(pcap path, frame) of the check's first evidence sample, or None."""
    for c in server["checks"]:
        if c["id"] == check_id and c["status"] == "fail" and c.get("evidence"):
            path, frame = c["evidence"][0]["sample"].rsplit(":", 1)
            return path, int(frame)
    return None


# What each finding's evidence frame must show in tshark (RFC code points).
def ssl3_cbc(path, frame):
    version, suite = tshark(path, frame, "tls.handshake.version", "tls.handshake.ciphersuite")
    return version == ["0x0300"] and suite == ["0x002f"]  # SSL 3.0, RSA_WITH_AES_128_CBC_SHA


def export_suite(path, frame):
    # TLS_RSA_EXPORT_WITH_DES40_CBC_SHA (RFC 2246 A.5)
    return tshark(path, frame, "tls.handshake.ciphersuite")[0] == ["0x0008"]


def export_key_512(path, frame):
    # RSA-EXPORT ServerKeyExchange: a 64-byte (512-bit) modulus
    return tshark(path, frame, "tls.handshake.modulus_len")[0] == ["64"]


def dh_1024(path, frame):
    # ServerDHParams dh_p of 128 bytes (RFC 5246 7.4.3)
    return tshark(path, frame, "tls.handshake.p_len")[0] == ["128"]


def rsa_key_exchange(path, frame):
    suite = tshark(path, frame, "tls.handshake.ciphersuite")[0]
    return len(suite) == 1 and suite[0] in RSA_KX_SUITES


def sha1_signed(path, frame):
    return SHA1_RSA in tshark(path, frame, "x509af.algorithm.id")[0]


def https_without_hsts(path, frame):
    code, lines, port = tshark(path, frame, "http.response.code", "http.response.line",
                               "tcp.srcport", keylog=True)
    return (code == ["200"] and port == ["443"] and
            not any(line.lower().startswith("strict-transport-security") for line in lines))


def http_content_on_80(path, frame):
    code, port, location = tshark(path, frame, "http.response.code", "tcp.srcport",
                                  "http.location")
    return code == ["200"] and port == ["80"] and location == []


FINDINGS = [  # (console, check, finding, what tshark must show)
    ("console.bravo.example", "poodle", "SSLv3/POODLE", ssl3_cbc),
    ("console.delta.example", "poodle", "SSLv3/POODLE", ssl3_cbc),
    ("console.delta.example", "weak_cipher", "export suite", export_suite),
    ("console.delta.example", "key_insecure", "export suite's 512-bit key", export_key_512),
    ("console.delta.example", "key_weak", "weak DH", dh_1024),
    ("console.alpha.example", "no_fs", "no forward secrecy", rsa_key_exchange),
    ("console.alpha.example", "sha1_sig", "SHA-1 chain", sha1_signed),
    ("console.charlie.example", "hsts", "no HSTS", https_without_hsts),
    ("console.charlie.example", "http_redirect", "plain-http reachable", http_content_on_80),
]


def grades(t, ours):
    t.eq(sorted(ours), sorted(s["sni"] for s in EXPECTED["servers"]), "four consoles")
    for want in EXPECTED["servers"]:
        s = ours.get(want["sni"])
        if not s:
            continue
        what = want["sni"]
        t.eq((s["ip"], s["port"]), (want["ip"], want["port"]), what + " address")
        t.eq(s["grade"], want["grade"], what + " grade")
        if want.get("grade_trust_ignored"):
            t.eq(s["grade_trust_ignored"], want["grade_trust_ignored"], what + " trust ignored")
        failed = {c["id"] for c in s["checks"]
                  if c["status"] == "fail" and c["effect"] in GRADING_EFFECTS}
        required = {c["id"] for c in want["caps"]} | {w["id"] for w in want["warnings"]}
        optional = {c["id"] for c in want["caps_optional"]}
        t.eq(sorted(required - failed), [], what + " required caps and warnings")
        t.eq(sorted(failed - required - optional), [], what + " unexpected caps or warnings")


def not_t_for_trust(t, ours):
    for host, s in ours.items():
        status = {c["id"]: c["status"] for c in s["checks"]}
        t.eq(status.get("untrusted"), "pass", host + ": the chain verifies with --ca-file")
        if s["grade"] == "T":
            t.eq(status.get("sha1_sig"), "fail", host + ": T only from the SHA-1 chain")


def change(t, ours):
    delta = [w for w in EXPECTED["servers"] if "periods" in w][0]
    s = ours.get(delta["sni"], {})
    ch = s.get("configuration_change") or {}
    t.eq(ch.get("grade_before"), delta["periods"][0]["grade"], "delta before the fix")
    t.eq(ch.get("grade_after"), delta["periods"][1]["grade"], "delta after the fix")
    # The change: the first ServerHello from delta on day 3 (tshark's time).
    day3 = os.path.join(SAMPLES, delta["change"]["file"])
    out = subprocess.run(["tshark", "-r", day3, "-Y",
                          "ip.src==%s && tls.handshake.type==2" % delta["ip"], "-T", "fields",
                          "-e", "frame.time_epoch"], capture_output=True, text=True,
                         check=True).stdout
    first = datetime.datetime.fromtimestamp(float(out.split()[0]), datetime.timezone.utc)
    t.eq(first.date().isoformat(), delta["change"]["date"], "day 3 is the expected date")
    t.eq((ch.get("at") or "")[:26], first.strftime("%Y-%m-%dT%H:%M:%S.%f")[:26],
         "the change is the first ServerHello of day 3")
    # The two frames: the same offer answered TLS 1.2 DHE-RSA-AES128-GCM
    # (0x009e) before, TLS 1.3 TLS_AES_128_GCM_SHA256 (0x1301) after.
    for key, days, field, want in (
            ("frame_before", ("day1.pcap", "day2.pcap"), "tls.handshake.version", "0x0303"),
            ("frame_after", ("day3.pcap",), "tls.handshake.extensions.supported_version",
             "0x0304")):
        path, frame = (ch.get(key) or "?:0").rsplit(":", 1)
        if not t.check(os.path.basename(path) in days, "%s %s in %s" % (key, path, days)):
            continue
        version, suite = tshark(path, int(frame), field, "tls.handshake.ciphersuite")
        t.eq((version, suite), ([want], ["0x009e" if key == "frame_before" else "0x1301"]),
             "%s %s: delta's ServerHello" % (key, ch.get(key)))
    rc, out, err = run_tlsgrade(["--no-color", "--ca-file", CA, "--keylog", KEYLOG, DEMO])
    t.check("configuration changed at %s" % delta["change"]["date"] in out,
            "the text report gives the date of the change")
    t.check("changed during capture: F, then A" in out, "the summary shows both periods")


def findings(t, ours):
    for host, check_id, finding, shows in FINDINGS:
        ev = evidence(ours.get(host, {"checks": []}), check_id)
        if t.check(ev is not None, "%s: %s (%s) fails with evidence" % (host, check_id, finding)):
            t.check(shows(*ev), "%s: %s evidence %s:%d shows %s in tshark"
                    % (host, check_id, os.path.basename(ev[0]), ev[1], finding))


def reproducible(t):
    out = tempfile.mkdtemp(prefix="tlsgrade-demo-")
    subprocess.run(["python3", os.path.join(SAMPLES, "craft_demo.py"), out], check=True,
                   capture_output=True)
    for name in EXPECTED["files"] + [EXPECTED["keylog"]]:
        t.check(filecmp.cmp(os.path.join(out, name), os.path.join(SAMPLES, name), shallow=False),
                name + ": craft_demo.py writes the committed file byte for byte")
    shutil.rmtree(out, ignore_errors=True)


def main():
    t = Suite()
    rc, doc, err = report()
    t.eq(rc, 0, "exit status: " + err[-300:])
    ours = {s["host"]: s for s in doc["servers"]}
    t.run(grades, ours)
    t.run(not_t_for_trust, ours)
    t.run(change, ours)
    t.run(findings, ours)
    t.run(reproducible)
    t.done()


main()
