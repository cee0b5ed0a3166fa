"""--keylog on QUIC (issue 15): Handshake and 1-RTT packets opened with
the TLS 1.3 secrets of the key log (RFC 9001 5.1), their CRYPTO frames
read by the TLS handshake parser.  tests/data/quic/h3-keylog.pcap holds
three real QUIC v1 connections made on 127.0.0.1 by ngtcp2's gtlsclient
and gtlsserver (make-keylog-capture.sh), one per suite QUIC uses
(AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305), with GnuTLS's key log.
tshark, given the same key log, is the oracle: the suite, the frame and
DER of each Certificate, the frame of each NewSessionTicket (a 1-RTT
CRYPTO frame)."""
import hashlib
import json
import os
import subprocess
import tempfile

from oracle import TOP, Suite, run_tlsgrade

DATA = os.path.join(TOP, "tests", "data", "quic")
PCAP = os.path.join(DATA, "h3-keylog.pcap")
KEYLOG = os.path.join(DATA, "h3-keylog.keys")
CA = os.path.join(TOP, "samples", "certs", "root.pem")


def tshark(*args):
    return subprocess.run(["tshark", "-r", PCAP, "-o", "tls.keylog_file:" + KEYLOG] + list(args),
                          capture_output=True, text=True, check=True).stdout


def tshark_by_port(filt, *fields):
    """{client port: [fields...]} of the packets matching filt (server
    port 44330: the client's is the other one)."""
    out = tshark("-Y", filt, "-T", "fields", "-e", "udp.srcport", "-e", "udp.dstport",
                 *sum([["-e", f] for f in fields], []))
    got = {}
    for line in out.splitlines():
        src, dst, *rest = line.split("\t")
        got[int(dst) if int(src) == 44330 else int(src)] = rest
    return got


def handshakes(*keylog):
    args = ["--handshakes"] + (["--keylog", keylog[0]] if keylog else []) + [PCAP]
    rc, out, err = run_tlsgrade(args)
    assert rc == 0, err
    return {int(json.loads(l)["client"].rsplit(":", 1)[1]): json.loads(l)
            for l in out.splitlines() if l.strip()}


def certificates_like_tshark(t):
    """Each connection's chain: the frame and DER tshark decrypts."""
    want = {}
    for port, (frame, certs) in tshark_by_port("tls.handshake.type == 11", "frame.number",
                                               "tls.handshake.certificate").items():
        want[port] = (int(frame), [hashlib.sha256(bytes.fromhex(c.replace(":", ""))).hexdigest()
                                   for c in certs.split(",") if c])
    t.eq(len(want), 3, "tshark decrypts three certificates")
    conns = handshakes(KEYLOG)
    got = {p: (c["frames"].get("certificate"), [x["sha256"] for x in c["cert_chain"]])
           for p, c in conns.items()}
    t.eq(got, want, "certificate frames and chains per connection")
    suites = {p: int(v[0], 16) for p, v in tshark_by_port("tls.handshake.type == 2",
                                                          "tls.handshake.ciphersuite").items()}
    t.eq(sorted(suites.values()), [0x1301, 0x1302, 0x1303], "the capture has the three suites")
    t.eq({p: c["cipher_id"] for p, c in conns.items()}, suites, "suite per connection")
    tickets = {p: int(v[0]) for p, v in tshark_by_port("tls.handshake.type == 4",
                                                       "frame.number").items()}
    t.eq({p: c.get("session_ticket", {}).get("frame") for p, c in conns.items()}, tickets,
         "NewSessionTicket from 1-RTT CRYPTO frames, at tshark's frames")
    t.eq({p: c.get("alpn") for p, c in conns.items()}, {p: "h3" for p in conns},
         "ALPN from EncryptedExtensions")
    for p, c in conns.items():
        t.eq(c.get("decryption", {}).get("status"), "ok", "decryption of %d" % p)
        t.check(c["decryption"]["records"]["s2c"] > 0 and c["decryption"]["records"]["c2s"] > 0,
                "packets opened both ways: %r" % c["decryption"])
        t.check("malformed" not in c, "not malformed: %r" % c.get("malformed"))


def http3_like_tshark(t):
    """The server's HTTP/3 response on each connection: the frame of its
    HEADERS frame as tshark finds it (tshark does not decode QPACK here),
    status 200 (the file the capture fetched exists); ngtcp2's server sends
    no Strict-Transport-Security, so the hsts check fails on what was read
    (the header itself: tests/unit/test_h3.c)."""
    want = {}
    out = tshark("-Y", "http3.frame_type == 1 && udp.srcport == 44330", "-T", "fields",
                 "-e", "udp.dstport", "-e", "frame.number")
    for line in out.splitlines():
        port, frame = line.split("\t")
        want[int(port)] = [(int(frame), "HTTP/3", 200)]
    t.eq(len(want), 3, "tshark finds three responses")
    conns = handshakes(KEYLOG)
    got = {p: [(r["frame"], r["version"], r["status"]) for r in c.get("http", [])]
           for p, c in conns.items()}
    t.eq(got, want, "HTTP/3 responses per connection")
    t.check(all("strict_transport_security" not in r for c in conns.values()
                for r in c.get("http", [])), "no HSTS header")
    rc, out, err = run_tlsgrade(["--format", "json", "--ca-file", CA, "--keylog", KEYLOG, PCAP])
    server = json.loads(out)["servers"][0]
    hsts = [c for c in server["checks"] if c["id"] == "hsts"]
    t.eq([c["status"] for c in hsts], ["fail"], "hsts decided from HTTP/3 responses")
    rc, out, err = run_tlsgrade(["--format", "json", "--ca-file", CA, PCAP])
    hsts = [c for c in json.loads(out)["servers"][0]["checks"] if c["id"] == "hsts"]
    t.eq([c["status"] for c in hsts], ["unknown"], "hsts unknown without the key log")


def http3_limits(t):
    """The HTTP/3 caps on the same capture.  tshark shows each connection's
    server streams in the order 3, 11, 7 (control and QPACK), then 0 (the
    response), and the response's HEADERS frame 8 bytes long.  At
    http3-streams=3 the response stream is the fourth: not read, each
    connection counted once; at http3-section-bytes=7 the HEADERS frame is
    past the cap: HTTP/3 stops, each connection counted once.  With 4 and
    8 (and by default) the responses are read and nothing is counted."""
    out = tshark("-Y", "udp.srcport == 44330 && quic.stream.stream_id", "-T", "fields",
                 "-e", "udp.dstport", "-e", "quic.stream.stream_id")
    order = {}
    for line in out.splitlines():
        port, ids = line.split("\t")
        for i in ids.split(","):
            if int(i) not in order.setdefault(int(port), []):
                order[int(port)].append(int(i))
    t.eq(sorted(order.values()), [[3, 11, 7, 0]] * 3, "tshark: the server's stream order")
    out = tshark("-Y", "http3.frame_type == 1 && udp.srcport == 44330", "-T", "fields",
                 "-e", "http3.frame_type", "-e", "http3.frame_length")
    for line in out.splitlines():
        types, lengths = (x.split(",") for x in line.split("\t"))
        t.eq(lengths[types.index("1")], "8", "tshark: an 8-byte HEADERS frame")

    def run(*limit):
        args = ["--format", "json", "--ca-file", CA, "--keylog", KEYLOG]
        rc, out, err = run_tlsgrade(args + sum([["--limit", x] for x in limit], []) + [PCAP])
        t.eq(rc, 0, "exit status: " + err)
        lim = json.loads(out)["limits"]
        args = ["--handshakes", "--keylog", KEYLOG]
        rc, out, err = run_tlsgrade(args + sum([["--limit", x] for x in limit], []) + [PCAP])
        responses = sum(len(json.loads(l).get("http", [])) for l in out.splitlines())
        return (lim["http3_streams_per_connection"], lim["http3_field_section_bytes"], responses)

    t.eq(run(), ({"limit": 16, "hits": 0}, {"limit": 16384, "hits": 0}, 3), "default")
    t.eq(run("http3-streams=3"), ({"limit": 3, "hits": 3}, {"limit": 16384, "hits": 0}, 0),
         "three streams: the responses are not read")
    t.eq(run("http3-streams=4"), ({"limit": 4, "hits": 0}, {"limit": 16384, "hits": 0}, 3),
         "four streams: all read")
    t.eq(run("http3-section-bytes=7"), ({"limit": 16, "hits": 0}, {"limit": 7, "hits": 3}, 0),
         "a 7-byte section cap: the 8-byte sections stop HTTP/3")
    t.eq(run("http3-section-bytes=8"), ({"limit": 16, "hits": 0}, {"limit": 8, "hits": 0}, 3),
         "an 8-byte section cap: read")


def without_keylog(t):
    conns = handshakes()
    t.eq([len(c["cert_chain"]) for c in conns.values()], [0, 0, 0], "no chain without key log")
    t.check(all("decryption" not in c for c in conns.values()), "no decryption outcome")


def with_keylog_lines(lines):
    f = tempfile.NamedTemporaryFile("w", suffix=".keylog", delete=False)
    f.write("".join(lines))
    f.close()
    return f.name


def wrong_and_missing_keys(t):
    """Every secret with one byte changed: each connection fails (its first
    Handshake packet does not authenticate), no certificate is read; a key
    log without the connections' lines: no_keys.  stats.decryption counts
    both."""
    bad = []
    for line in open(KEYLOG):
        label, random, secret = line.split()
        bad.append("%s %s %s\n" % (label, random, ("1" if secret[0] == "0" else "0") + secret[1:]))
    other = ["CLIENT_HANDSHAKE_TRAFFIC_SECRET " + "00" * 32 + " " + "11" * 32 + "\n"]
    for lines, status in ((bad, "failed"), (other, "no_keys")):
        path = with_keylog_lines(lines)
        try:
            conns = handshakes(path)
            t.eq([c.get("decryption", {}).get("status") for c in conns.values()], [status] * 3,
                 "status per connection")
            t.eq([len(c["cert_chain"]) for c in conns.values()], [0, 0, 0],
                 "no chain read (%s)" % status)
            rc, out, err = run_tlsgrade(["--format", "json", "--ca-file", CA, "--keylog", path,
                                         PCAP])
            t.eq(json.loads(out)["stats"].get("decryption", {}).get(
                "failed" if status == "failed" else "no_keys"), 3, "stats.decryption")
        finally:
            os.unlink(path)
    rc, out, err = run_tlsgrade(["--format", "json", "--ca-file", CA, "--keylog", KEYLOG, PCAP])
    t.eq(json.loads(out)["stats"].get("decryption", {}).get("decrypted"), 3,
         "stats.decryption: three QUIC connections decrypted")


def main():
    t = Suite()
    t.run(certificates_like_tshark)
    t.run(http3_like_tshark)
    t.run(http3_limits)
    t.run(without_keylog)
    t.run(wrong_and_missing_keys)
    t.done()


main()
