"""--weak-keys: Debian's weak RSA keys (CVE-2008-0166, check debian_key).

The list line is made here the way Debian documents it for its
openssl-blacklist files (openssl-vulnkey(1)): `openssl x509 -noout -modulus
-in CERT | sha1sum`, the last 20 hex digits.  The evidence frame is the
Certificate message tshark finds (`-Y tls.handshake.certificate`).  The
sample a-grade.pcap is a.example.test with certificate samples/certs/a.pem
(RSA-2048; samples/README.md).  Nothing expected comes from tlsgrade."""
import json
import os
import subprocess
import tempfile

from oracle import TOP, Suite, run_tlsgrade

SAMPLES = os.path.join(TOP, "samples")
PCAP = os.path.join(SAMPLES, "a-grade.pcap")
CERT = os.path.join(SAMPLES, "certs", "a.pem")
CA = os.path.join(SAMPLES, "certs", "root.pem")
HOST = "a.example.test"
TMP = tempfile.mkdtemp(prefix="tlsgrade-weak-keys-")


def debian_line(cert):
    """The blacklist line of cert's key, by Debian's recipe."""
    out = subprocess.run("openssl x509 -noout -modulus -in '%s' | sha1sum" % cert, shell=True,
                         capture_output=True, check=True).stdout.decode()
    return out.split()[0][20:40]


def certificate_frames(pcap):
    out = subprocess.run(["tshark", "-r", pcap, "-Y", "tls.handshake.certificate", "-T",
                          "fields", "-e", "frame.number"], capture_output=True,
                         check=True).stdout.decode()
    return sorted(int(x) for x in out.split())


def write(name, text):
    path = os.path.join(TMP, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def server(args, t, pcap=PCAP):
    rc, out, err = run_tlsgrade(["--format", "json", "--ca-file", CA] + args + [pcap])
    t.eq(rc, 0, "exit status: " + err)
    doc = json.loads(out) if out else {"servers": []}
    found = [s for s in doc["servers"] if s["host"] == HOST]
    t.eq(len(found), 1, "one server " + HOST)
    return found[0] if found else None


def check(srv, cid):
    return next(c for c in srv["checks"] if c["id"] == cid)


def listed_key_fails(t):
    line = debian_line(CERT)
    t.eq(len(line), 20, "20 hex digits from openssl | sha1sum")
    path = write("listed/blacklist.RSA-2048",
                 "# keys of a weak generator\n00000000000000000000\n%s\n" % line)
    frames = certificate_frames(PCAP)
    t.check(frames, "tshark finds Certificate messages")
    for args in (["--weak-keys", path], ["--weak-keys", os.path.dirname(path)],
                 ["--weak-keys", path, "-j", "2"]):
        srv = server(args, t)
        if not srv:
            continue
        t.eq(srv["grade"], "F", "%s: grade" % args)
        t.eq(srv["score"]["key_exchange"], 0, "K = 0 (reference section 1)")
        caps = {c["id"]: c for c in srv["caps"]}
        t.check("debian_key" in caps, "cap debian_key: %r" % sorted(caps))
        if "debian_key" in caps:
            t.eq(caps["debian_key"]["grade"], "F", "the cap is F")
            ev = caps["debian_key"]["evidence"]
            t.eq([e["fact"] for e in ev], ["cert:debian_weak"], "the fact")
            t.eq(ev[0]["sample"], "%s:%d" % (PCAP, frames[0]),
                 "evidence: the first Certificate frame tshark shows")


def unlisted_key_passes(t):
    path = write("unlisted/blacklist.RSA-2048", "# other keys\n0123456789abcdef0123\n"
                 "ffffffffffffffffffff\n")
    srv = server(["--weak-keys", path], t)
    if srv:
        t.eq(check(srv, "debian_key")["status"], "pass", "key not on a list of its size")
        t.check("debian_key" not in {c["id"] for c in srv["caps"]}, "no cap")
    # a list of another size decides nothing for a 2048-bit key
    other = write("other/blacklist.RSA-1024", "%s\n" % debian_line(CERT))
    srv = server(["--weak-keys", other], t)
    if srv:
        c = check(srv, "debian_key")
        t.eq(c["status"], "unknown", "no list for RSA-2048")
        t.eq(c.get("reason"), "no weak-key list for RSA-2048 loaded; see --weak-keys", "reason")


def no_list_unknown(t):
    srv = server([], t)
    if srv:
        c = check(srv, "debian_key")
        t.eq(c["status"], "unknown", "without --weak-keys")
        t.eq(c.get("reason"), "no weak-key list for RSA-2048 loaded; see --weak-keys", "reason")


def handshakes_show_the_verdict(t):
    line = debian_line(CERT)
    path = write("hs/blacklist.RSA-2048", line + "\n")
    fingerprint = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in",
                                  CERT], capture_output=True, check=True).stdout.decode()
    leaf_sha256 = fingerprint.split("=", 1)[1].strip().replace(":", "").lower()
    rc, out, err = run_tlsgrade(["--handshakes", "--weak-keys", path, PCAP])
    t.eq(rc, 0, "exit status: " + err)
    seen = 0
    for row in map(json.loads, out.splitlines()):
        for cert in row.get("cert_chain") or []:
            if cert["sha256"] == leaf_sha256:
                seen += 1
                t.eq(cert.get("debian_weak_key"), True, "the leaf is listed")
            else:
                t.eq(cert.get("debian_weak_key"), False, "the intermediate is not")
    t.check(seen > 0, "the leaf is in the --handshakes output")


def bad_lists(t):
    cases = [
        (write("bad1/blacklist.RSA-2048", "# ok\n0123\n"), ":2: "),
        (write("bad2/blacklist.RSA-2048", "0123456789abcdef0123\nnot-hex-not-hex-xyz!\n"), ":2: "),
        (write("bad3/keys.txt", "0123456789abcdef0123\n"), "blacklist.RSA-<bits>"),
        (os.path.join(TMP, "missing"), "No such file"),
    ]
    for path, what in cases:
        rc, out, err = run_tlsgrade(["--weak-keys", path, PCAP])
        t.eq(rc, 1, "%s: exit status 1" % path)
        lines = err.strip().splitlines()
        t.eq(len(lines), 1, "one line of error: %r" % err)
        t.check(lines and path in lines[0] and what in lines[0],
                "the message names %s and %r: %r" % (path, what, err))
    rc, out, err = run_tlsgrade(["merge", "--weak-keys", TMP, os.path.join(TMP, "x.json")])
    t.eq(rc, 2, "merge refuses --weak-keys: " + err)


def main():
    t = Suite()
    t.run(listed_key_fails)
    t.run(unlisted_key_passes)
    t.run(no_list_unknown)
    t.run(handshakes_show_the_verdict)
    t.run(bad_lists)
    subprocess.run(["rm", "-rf", TMP])
    t.done()


main()
