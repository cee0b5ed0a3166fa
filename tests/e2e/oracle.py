"""tests/e2e/oracle.py - shared helpers of the end-to-end tests.

An independent oracle for flows: tshark dissects a capture and this module
adds up, per TCP/UDP stream and per sending endpoint, the frames, their
bytes on the wire, and the payload bytes a reassembler must deliver (the
union of the [seq, seq+len) ranges seen, so retransmitted bytes count once).
Nothing here reads tlsgrade's output to decide what is expected.
"""
import json
import os
import socket
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TLSGRADE = os.environ.get("TLSGRADE", os.path.join(TOP, "tlsgrade"))
CORPUS = os.environ.get("CORPUS_DIR", os.path.join(TOP, "..", "shared", "corpus"))


class Suite:
    """Counts checks per test function; prints 'N passed, N failed'."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.current = 0

    def check(self, cond, what):
        if not cond:
            print("  CHECK failed:", what)
            self.current += 1
        return cond

    def eq(self, got, want, what):
        return self.check(got == want, "%s: got %r, want %r" % (what, got, want))

    def run(self, fn, *args):
        self.current = 0
        try:
            fn(self, *args)
        except Exception as e:  # a crash of the test is a failure
            print("  exception:", repr(e))
            self.current += 1
        shown = ", ".join(str(a) if len(str(a)) < 60 else str(a)[:57] + "..." for a in args)
        name = fn.__name__ + ("(%s)" % shown if args else "")
        if self.current:
            self.failed += 1
            print("FAIL", name)
        else:
            self.passed += 1

    def done(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (for a test server)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_tlsgrade(args, stdin=None, timeout=120):
    """Run tlsgrade; returns (exit status, stdout, stderr)."""
    p = subprocess.run([TLSGRADE] + args, input=stdin, capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode(
        "utf-8", "replace")


def parse_flow_lines(text):
    """--flows output -> (list of flow dicts, stats dict)."""
    flows, stats = [], None
    for line in text.splitlines():
        obj = json.loads(line)
        if "stats" in obj:
            stats = obj["stats"]
        else:
            flows.append(obj)
    return flows, stats


def endpoint(addr, port):
    return "[%s]:%s" % (addr, port) if ":" in addr else "%s:%s" % (addr, port)


FIELDS = ["frame.number", "tcp.stream", "udp.stream", "ip.src", "ip.dst", "ipv6.src",
          "ipv6.dst", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
          "tcp.seq_raw", "tcp.len", "frame.len", "tcp.flags.syn", "tcp.flags.ack",
          "udp.length"]


def _last(v):
    return v.split(",")[-1] if v else v


def _union_len(ranges):
    total, end = 0, None
    for lo, hi in sorted(ranges):
        if end is None or lo > end:
            total += hi - lo
            end = hi
        elif hi > end:
            total += hi - end
            end = hi
    return total


def tshark_flows(path):
    """tshark's streams: {(l4, stream index): flow dict} with per-endpoint
    'packets', 'bytes', 'payload' (TCP: union of sequence ranges)."""
    cmd = ["tshark", "-n", "-r", path, "-Y", "(tcp or udp) and not icmp and not icmpv6",
           "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, timeout=300).stdout.decode()
    flows = {}
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        tcp = v["tcp.stream"] != ""
        key = ("tcp", int(_last(v["tcp.stream"]))) if tcp else (
            "udp", int(_last(v["udp.stream"])))
        src = _last(v["ip.src"]) or _last(v["ipv6.src"])
        dst = _last(v["ip.dst"]) or _last(v["ipv6.dst"])
        sport = _last(v["tcp.srcport"] if tcp else v["udp.srcport"])
        dport = _last(v["tcp.dstport"] if tcp else v["udp.dstport"])
        s, d = endpoint(src, sport), endpoint(dst, dport)
        fl = flows.setdefault(key, {"endpoints": {}, "first_frame": int(v["frame.number"]),
                                    "syn_sender": None})
        ep = fl["endpoints"].setdefault(s, {"packets": 0, "bytes": 0, "payload": 0,
                                            "ranges": [], "base": None})
        fl["endpoints"].setdefault(d, {"packets": 0, "bytes": 0, "payload": 0,
                                       "ranges": [], "base": None})
        ep["packets"] += 1
        ep["bytes"] += int(v["frame.len"])
        if tcp:
            seq, ln = int(_last(v["tcp.seq_raw"])), int(_last(v["tcp.len"]) or 0)
            syn = _last(v["tcp.flags.syn"]) in ("1", "True")
            ack = _last(v["tcp.flags.ack"]) in ("1", "True")
            if syn and not ack and fl["syn_sender"] is None:
                fl["syn_sender"] = s
            if syn:
                seq += 1
            if ln:
                if ep["base"] is None:
                    ep["base"] = seq
                rel = (seq - ep["base"]) & 0xFFFFFFFF
                if rel >= 0x80000000:
                    rel -= 0x100000000
                ep["ranges"].append((rel, rel + ln))
        else:
            ep["payload"] += max(int(_last(v["udp.length"]) or 8) - 8, 0)
    for fl in flows.values():
        for ep in fl["endpoints"].values():
            if ep["ranges"]:
                ep["payload"] = _union_len(ep["ranges"])
            del ep["ranges"], ep["base"]
    return flows


def match_flows(ours, theirs):
    """Pair our flow dicts with tshark's by endpoints, in order of first
    appearance. Returns (pairs, unmatched ours, unmatched theirs)."""
    by_key = {}
    for key in sorted(theirs, key=lambda k: theirs[k]["first_frame"]):
        fl = theirs[key]
        by_key.setdefault((key[0], frozenset(fl["endpoints"])), []).append(fl)
    pairs, lone = [], []
    for f in sorted(ours, key=lambda f: f["first_ts"]):
        k = (f["l4"], frozenset([f["client"], f["server"]]))
        if by_key.get(k):
            pairs.append((f, by_key[k].pop(0)))
        else:
            lone.append(f)
    rest = [fl for lst in by_key.values() for fl in lst]
    return pairs, lone, rest


def openssl_handshakes(workdir, port, count=1, gap=0.0):
    """`count` TLS connections on 127.0.0.1:port, `gap` seconds apart:
    openssl s_server with a self-signed certificate made in workdir, and
    s_client sending one line.  Returns how many clients succeeded."""
    key, cert = os.path.join(workdir, "k.pem"), os.path.join(workdir, "c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                    "/CN=localhost", "-days", "1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    server = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port,
                               "-cert", cert, "-key", key, "-naccept", str(count), "-quiet"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    made = 0
    try:
        for i in range(count):
            c = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port],
                               input=b"Q\n", capture_output=True, timeout=30)
            made += c.returncode == 0
            if i + 1 < count:
                time.sleep(gap)
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    return made
