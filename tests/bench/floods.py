"""make bench-floods: the floods of tests/e2e/test_adversarial.py at full
size, each capture written to a file first (BENCH_DIR, default
/tmp/tlsgrade-floods), then read by tlsgrade: wall time, CPU time (user +
system) and peak RSS of the tlsgrade process alone (its rusage as GNU time
reads it, see run_child).

    python3 tests/bench/floods.py [--only NAME,...] [--skip NAME,...]
                                  [--max-rss-mb N] [--keep]

The rows (issue 16, "Bounded under attack"):
  sni-100k, sni-1m  TCP flows, each a ClientHello naming its own server, no
                    answer (1m runs last, its address space capped at 1.25
                    x --max-rss-mb, default 8192: past it, an allocation
                    fails and the row shows tlsgrade's exit status)
  offers-20k        full handshakes to one server, each client with its own
                    suite list
  quic-asc, quic-desc  one QUIC flow: 9,000 client Initials, each one CRYPTO
                    frame of one byte, offsets 1..9000 ascending (never 0),
                    or 9000..1 descending in 1200-byte datagrams
  dtls-200          DTLS fragments claiming a 4 MiB Certificate, one byte
                    each 4 kB apart, 200 flows x 200 datagrams
  http-50mb         tiny pipelined GETs on port 80, never answered, 50 MB
  frag-8b           UDP datagrams of 65,000 bytes in 8-byte IPv4 fragments,
                    16 of them (7.6 MB)
  half-600k         600,000 half-done handshakes (ServerHello and 12 kB of a
                    100 kB Certificate), default limits
  keylog-1m         a key log of 1,000,000 CLIENT_RANDOM lines, one handshake
  merge-20k         tlsgrade merge of evidence holding 20,000 leaf
                    certificates (20,000 servers)
  sigint-merge      SIGINT halfway through that merge: seconds from the
                    signal to the exit
The generators are test_adversarial.py's (imported); the rows it has no
generator for are built here.  Every capture ends with one normal handshake
(test_adversarial.tail_handshake), which must still be graded.
"""
import argparse
import datetime
import hashlib
import json
import mmap
import os
import re
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))

import test_adversarial as adv  # noqa: E402
from oracle import TLSGRADE  # noqa: E402
from pcapgen import (Conversation, certificate, client_hello, server_hello,  # noqa: E402
                     server_hello_done, tcp_frame, udp_frame)

MB = 1024 * 1024
GNU_TIME = os.environ.get("GNU_TIME", "/usr/bin/time")
BENCH_DIR = os.environ.get("BENCH_DIR", "/tmp/tlsgrade-floods")


def write_capture(path, frames):
    """The pcap header, the frames (already records), the tail handshake."""
    size = 0
    with open(path, "wb", buffering=4 * MB) as f:
        f.write(adv.PCAP_HEADER)
        for r in frames:
            f.write(r)
            size += len(r)
        f.write(adv.tail_handshake())
    return size


def run_child(args, stop_after=None, max_as_mb=None):
    """Run tlsgrade ARGS under GNU time, which forks it from its own small
    process and reads its rusage: exit status, wall and CPU time, peak RSS
    of tlsgrade alone, output; with stop_after, a SIGINT that many seconds
    in and the seconds from it to the exit.  (os.wait4 on a child of this
    script would not do: the kernel keeps the forking process's high-water
    RSS across exec, so the child's ru_maxrss starts at this script's.)"""
    fd, stats = tempfile.mkstemp(prefix="floods-time-")
    os.close(fd)
    report = os.path.join(BENCH_DIR, "report.out")
    limit = None
    if max_as_mb:  # an address-space cap: tlsgrade fails an allocation, the machine does not
        def limit():
            resource.setrlimit(resource.RLIMIT_AS, (int(max_as_mb * MB), int(max_as_mb * MB)))
    with open(report, "wb") as out:
        proc = subprocess.Popen([GNU_TIME, "-f", "%M %e %U %S", "-o", stats, TLSGRADE] + args,
                                stdout=out, stderr=subprocess.PIPE, preexec_fn=limit,
                                start_new_session=True)  # a group: the SIGINT reaches tlsgrade
    got = {}
    t_err = threading.Thread(target=lambda: got.update(e=proc.stderr.read()))
    t_err.start()
    sent = None
    if stop_after is not None:
        time.sleep(stop_after)
        sent = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # GNU time ignores it, tlsgrade does not
    rc = proc.wait()
    end = time.monotonic()
    t_err.join()
    with open(stats) as f:
        rss_kb, wall, user, system = f.read().split("\n")[-2].split()
    os.unlink(stats)
    return {"rc": rc, "wall": float(wall), "stop": end - sent if sent is not None else None,
            "cpu": float(user) + float(system), "rss_mb": int(rss_kb) / 1024.0,
            "report": report, "err": got.get("e", b"").decode("utf-8", "replace")[-300:]}


# Generators for the rows test_adversarial.py has none for.

def sni_flow_frames(n, close=False):
    """n TCP connections, each a ClientHello naming its own server; the
    server completes the TCP handshake and says nothing more (with close,
    the client then resets the connection)."""
    for i in range(n):
        conv = Conversation("10.%d.%d.%d" % (20 + (i >> 16), i >> 8 & 0xff, i & 0xff), 40000,
                            "10.30.0.1", 443, 1700000000.0 + i / 10000)
        conv.handshake()
        hello = client_hello(sni=b"h%d.flood.example" % i)
        conv.client_sends(hello)
        if close:
            conv._add(tcp_frame(conv.c, conv.cp, conv.s, conv.sp, conv.cseq, 0, 0x04))
        for ts, f in conv.frames:
            yield adv.rec(f, int(ts))


def quic_initial_keys(dcid):
    """RFC 9001 5.2: the client's Initial key, IV and header protection key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
    import hmac
    salt = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")
    initial = hmac.new(salt, dcid, hashlib.sha256).digest()

    def expand(secret, label, n):
        full = b"tls13 " + label
        info = struct.pack("!H", n) + bytes([len(full)]) + full + b"\x00"
        return HKDFExpand(hashes.SHA256(), n, info).derive(secret)
    client = expand(initial, b"client in", 32)
    return expand(client, b"quic key", 16), expand(client, b"quic iv", 12), \
        expand(client, b"quic hp", 16)


def quic_crypto_frames(n, descending):
    """One QUIC v1 flow: n client Initials (RFC 9000 17.2.2), each one
    CRYPTO frame (19.6) of one byte at offset k (1..n, never 0); descending
    ones are padded to 1200 bytes (14.1)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    dcid = bytes.fromhex("8394c8f03e515708")
    key, iv, hp = quic_initial_keys(dcid)
    aead = AESGCM(key)
    offsets = range(n, 0, -1) if descending else range(1, n + 1)
    for pn, off in enumerate(offsets):
        frame = b"\x06" + struct.pack("!I", 0x80000000 | off) + b"\x01" + b"\x42"
        if descending:
            frame += bytes(1200 - 50 - len(frame))
        head = b"\xc1" + struct.pack("!I", 1) + bytes([len(dcid)]) + dcid + b"\x00\x00"
        head += struct.pack("!H", 0x4000 | (2 + len(frame) + 16))
        pn_bytes = struct.pack("!H", pn & 0xffff)
        nonce = iv[:10] + bytes(a ^ b for a, b in zip(iv[10:], pn_bytes))
        sealed = aead.encrypt(nonce, frame, head + pn_bytes)
        sample = sealed[2:18]  # 4 bytes after the packet number's start
        enc = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
        mask = enc.update(sample) + enc.finalize()
        first = bytes([head[0] ^ (mask[0] & 0x0f)])
        pn_prot = bytes(a ^ b for a, b in zip(pn_bytes, mask[1:3]))
        pkt = first + head[1:] + pn_prot + sealed
        yield adv.rec(udp_frame("10.40.0.1", 50000, "10.41.0.1", 443, pkt))


def leaf_certs(n, cache):
    """n leaf certificates (DER), each for its own name, signed by one CA;
    kept in cache (a file) between runs."""
    if os.path.exists(cache):
        with open(cache, "rb") as f:
            data = f.read()
        ders, off = [], 0
        while off < len(data) and len(ders) < n:
            k = struct.unpack("!I", data[off:off + 4])[0]
            ders.append(data[off + 4:off + 4 + k])
            off += 4 + k
        if len(ders) == n:
            return ders
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    ca_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flood CA")])
    start = datetime.datetime(2025, 1, 1)
    ders = []
    for i in range(n):
        host = "c%d.flood.example" % i
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
                .issuer_name(ca_name).public_key(leaf_key.public_key())
                .serial_number(i + 1).not_valid_before(start)
                .not_valid_after(start + datetime.timedelta(days=365))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), False)
                .sign(ca_key, hashes.SHA256()))
        ders.append(cert.public_bytes(serialization.Encoding.DER))
    with open(cache, "wb") as f:
        for d in ders:
            f.write(struct.pack("!I", len(d)) + d)
    return ders


def cert_frames(ders):
    """One full handshake (RFC 5246 7.3) per certificate, each to its own
    server name."""
    for i, der in enumerate(ders):
        conv = Conversation("10.%d.%d.%d" % (50 + (i >> 16), i >> 8 & 0xff, i & 0xff), 40000,
                            "10.60.%d.%d" % (i >> 8 & 0xff, i & 0xff), 443, 1700000000.0 + i / 100)
        conv.handshake()
        conv.client_sends(client_hello(sni=b"c%d.flood.example" % i))
        conv.server_sends(server_hello(cipher=0xc02f) + certificate([der]) + server_hello_done())
        for ts, f in conv.frames:
            yield adv.rec(f, int(ts))


def graded(res):
    """Whether the tail handshake's server is in the report (a file: with
    100,000 servers it is hundreds of MB), and the report's limits."""
    with open(res["report"], "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return None, {}
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            after = re.search(rb'"host":\s*"after\.example"', m) is not None
            at = m.rfind(b'"limits":')
            limits = {}
            if at >= 0:
                tail = m[at + len(b'"limits":'):].decode("utf-8", "replace")
                try:
                    limits = json.JSONDecoder().raw_decode(tail.lstrip())[0]
                except ValueError:
                    pass
    return after, {"limits": limits}


def cap_hits(report):
    limits = report.get("limits", {})
    return ", ".join("%s %d" % (k, v["hits"]) for k, v in sorted(limits.items())
                     if isinstance(v, dict) and v.get("hits"))


class Bench:
    def __init__(self, opts):
        self.opts = opts
        self.dir = BENCH_DIR
        os.makedirs(self.dir, exist_ok=True)
        self.rows = []
        self.facts = {}

    def want(self, name):
        only = self.opts.only.split(",") if self.opts.only else None
        skip = self.opts.skip.split(",") if self.opts.skip else []
        return (only is None or name in only) and name not in skip

    def row(self, name, what, size, res, note=""):
        ok = res["rc"] == 0
        line = {"name": name, "what": what, "size_mb": size / 1e6 if size else None,
                "wall": res["wall"], "cpu": res["cpu"], "rss_mb": res["rss_mb"],
                "stop": res["stop"], "rc": res["rc"], "note": note}
        if not ok:
            line["note"] = (note + "; " if note else "") + "exit %d: %s" % (res["rc"], res["err"].strip())
        self.rows.append(line)
        print("%-13s %8s MB %7.1f s wall %7.1f s CPU %8.1f MB peak RSS%s  %s" % (
            name, "%.1f" % (size / 1e6) if size else "-", res["wall"], res["cpu"], res["rss_mb"],
            " (signal to exit %.2f s)" % res["stop"] if res["stop"] is not None else "",
            line["note"]), flush=True)
        return line

    def capture(self, name, what, frames, extra=(), max_as_mb=None):
        if not self.want(name):
            return None
        path = os.path.join(self.dir, name + ".pcap")
        t0 = time.monotonic()
        size = write_capture(path, frames)
        gen = time.monotonic() - t0
        res = run_child(["--format", "json"] + list(extra) + [path], max_as_mb=max_as_mb)
        after, report = graded(res)
        note = "tail handshake graded" if after else "TAIL HANDSHAKE NOT GRADED"
        hits = cap_hits(report)
        if hits:
            note += "; cap hits: " + hits
        print("  (%s: capture written in %.0f s)" % (name, gen), flush=True)
        line = self.row(name, what, size, res, note)
        if not self.opts.keep:
            os.unlink(path)
        return line

    def table(self):
        print()
        print("| row | flood | capture | wall | CPU | peak RSS | note |")
        print("|---|---|---|---|---|---|---|")
        for r in self.rows:
            size = "%.1f MB" % r["size_mb"] if r["size_mb"] else "-"
            wall = "%.1f s" % r["wall"]
            if r["stop"] is not None:
                wall += " (SIGINT to exit %.2f s)" % r["stop"]
            print("| %s | %s | %s | %s | %.1f s | %.0f MB | %s |" % (
                r["name"], r["what"], size, wall, r["cpu"], r["rss_mb"], r["note"]))


def keylog_row(b, lines=1000000):
    if not b.want("keylog-1m"):
        return
    path = os.path.join(b.dir, "keylog-1m.txt")
    with open(path, "w", buffering=4 * MB) as f:
        for i in range(lines):
            rnd = hashlib.sha256(b"r%d" % i).hexdigest()
            secret = hashlib.sha384(b"s%d" % i).hexdigest()
            f.write("CLIENT_RANDOM %s %s\n" % (rnd, secret))
    size = os.path.getsize(path)
    cap = os.path.join(b.dir, "tail.pcap")
    write_capture(cap, [])
    res = run_child(["--format", "json", "--keylog", path, cap])
    after, report = graded(res)
    note = "tail handshake graded" if after else "TAIL HANDSHAKE NOT GRADED"
    hits = cap_hits(report)
    b.row("keylog-1m", "key log of %d lines" % lines, size, res,
          note + ("; cap hits: " + hits if hits else ""))
    os.unlink(path)


def merge_rows(b, n=20000):
    if not (b.want("merge-20k") or b.want("sigint-merge")):
        return
    ders = leaf_certs(n, os.path.join(b.dir, "leafs-%d.der" % n))
    cap = os.path.join(b.dir, "certs.pcap")
    write_capture(cap, cert_frames(ders))
    evidence = os.path.join(b.dir, "certs-evidence.json")
    made = run_child(["--format", "json", "-o", os.devnull, "--save-evidence", evidence, cap])
    if made["rc"] != 0:
        print("merge: --save-evidence failed: " + made["err"])
        return
    size = os.path.getsize(evidence)
    res = run_child(["merge", "--format", "json", evidence])
    servers = 0
    if res["rc"] == 0:
        with open(res["report"], "rb") as f:
            servers = len(json.load(f).get("servers", []))
    if b.want("merge-20k"):
        b.row("merge-20k", "merge of evidence with %d leaf certificates" % n, size, res,
              "%d servers graded (capture read in %.1f s, %.0f MB)" % (servers, made["wall"],
                                                                        made["rss_mb"]))
    if b.want("sigint-merge"):
        stop = run_child(["merge", "--format", "json", evidence], stop_after=res["wall"] / 2)
        b.row("sigint-merge", "SIGINT halfway through that merge", size, stop,
              "signal sent after %.1f s" % (res["wall"] / 2))
    os.unlink(cap)
    if not b.opts.keep:
        os.unlink(evidence)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="comma-separated rows to run")
    ap.add_argument("--skip", help="comma-separated rows not to run")
    ap.add_argument("--max-rss-mb", type=float, default=8192)
    ap.add_argument("--keep", action="store_true", help="keep the captures in BENCH_DIR")
    ap.add_argument("--divide", type=int, default=1,
                    help="divide every size by this (a quick try of the script)")
    opts = ap.parse_args()
    b = Bench(opts)

    def n(full):
        return max(1, full // opts.divide)
    print("tlsgrade: %s" % TLSGRADE)
    b.capture("sni-100k", "100,000 TCP flows, a ClientHello each (own SNI), no answer",
              sni_flow_frames(n(100000)))
    b.capture("sni-200k", "200,000 TCP flows, a ClientHello each (own SNI), no answer, open",
              sni_flow_frames(n(200000)))
    b.capture("sni-200k-rst", "the same, each closed by the client's RST",
              sni_flow_frames(n(200000), close=True))
    b.capture("offers-20k", "20,000 full handshakes to one server, each its own suite list",
              adv.distinct_offer_frames(n(20000)))
    b.capture("quic-asc", "QUIC: 9,000 one-byte CRYPTO frames, offsets 1..9000",
              quic_crypto_frames(n(9000), False))
    b.capture("quic-desc", "QUIC: 9,000 one-byte CRYPTO frames, offsets 9000..1, padded",
              quic_crypto_frames(n(9000), True))
    b.capture("dtls-200", "DTLS: 4 MiB claims, 1 byte 4 kB apart, 200 flows x 200",
              adv.dtls_claim_frames(n(200), 200))
    b.capture("http-50mb", "port 80: pipelined GETs never answered, 50 MB",
              adv.pipelined_get_frames(n(50 * MB)))
    b.capture("frag-8b", "IPv4: 16 datagrams of 65,000 bytes in 8-byte fragments",
              adv.tiny_fragment_frames(n(16)))
    b.capture("half-600k", "600,000 half-done handshakes (12 kB of a Certificate)",
              adv.half_done_frames(n(600000)))
    keylog_row(b, n(1000000))
    merge_rows(b, n(20000))
    # Last, under an address-space cap of 1.25 x --max-rss-mb: past it
    # tlsgrade fails an allocation and the row says so.
    b.capture("sni-1m", "1,000,000 TCP flows, a ClientHello each (own SNI), no answer",
              sni_flow_frames(n(1000000)), max_as_mb=1.25 * opts.max_rss_mb)
    b.table()


if __name__ == "__main__":
    main()
