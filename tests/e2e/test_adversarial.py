"""Adversarial captures, generated here and streamed to tlsgrade's stdin (no
big files): peak memory stays under a stated bound, and a normal TLS
handshake after the attack traffic is still graded.

| attack | size (plain build) | RSS bound |
|---|---|---|
| SYNs from distinct sources | 2 000 000 packets | 700 MB |
| one stream of out-of-order segments that never fill the hole | 1 GiB | 150 MB |
| 16 MB handshake-length claim, then one byte per segment | 1 000 000 segments | 150 MB |
| overlapping retransmissions of one range | 100 000 segments | 150 MB |
| IP fragments of datagrams never completed | 300 000 fragments | 150 MB |
| DTLS fragments claiming a 4 MiB message, one byte each on distinct pages | 100 flows x 200 | 80 MB |
| 8-byte IPv4 fragments at ascending offsets, whole datagrams | 16 x 64 KB datagrams | 150 MB |
| tiny pipelined HTTP GETs on port 80, never answered | 4 MB | 80 MB |
| full handshakes to one server, each client offering another suite list | 5000 | 150 MB |
| half-done handshakes (12 kB of a Certificate): uncapped against `--limit handshake-buffers=16777216` | 5000 | 30 MB less |
| ClientHellos to distinct SNI names, never answered (each closed by a RST, 10 ms apart) | 100 000 | 100 MB |
| the same, the flows left open to the end | 40 000 | 140 MB |
| QUIC Initials of three 1200-byte CRYPTO pieces past a hole that never fills: uncapped against `--limit handshake-buffers=4194304` | 10000 | 20 MB less |

Under SAN=1 (AddressSanitizer doubles memory and slows everything) the
sizes are divided by SAN_SCALE and the bounds raised by ASan's overhead.
Peak RSS is tlsgrade's as GNU time reports it (`/usr/bin/time -f %M`): not
the rusage of this Python process's child, which Linux starts at the
high-water mark of the image exec replaced (Python's own, tens of MB).
"""
import json
import os
import itertools
import struct
import subprocess
import tempfile
import time

from oracle import TLSGRADE, Suite
from pcapgen import (Conversation, client_hello, quic_crypto_frame, quic_initial, server_hello,
                     set_seq, tcp_frame, udp_frame)

SAN = os.environ.get("SAN") == "1"
SCALE = 8 if SAN else 1
MB = 1024 * 1024
PCAP_HEADER = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1)


def rec(frame, t=1700000000):
    return struct.pack("<IIII", t, 0, len(frame), len(frame)) + frame


def tail_handshake():
    """A normal connection after the attack: it must still be graded."""
    conv = Conversation("10.2.2.2", 40000, "10.3.3.3", 443, 1700000100.0)
    conv.handshake()
    conv.client_sends(client_hello(sni=b"after.example"))
    conv.server_sends(server_hello(cipher=0xc02f))
    return b"".join(rec(f, int(t)) for t, f in conv.frames)


def run(chunks, extra=()):
    """Stream the capture into tlsgrade; returns (rc, report, seconds, rss MB)."""
    start = time.time()
    peak = tempfile.NamedTemporaryFile("r", prefix="tlsgrade-rss-")
    proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", peak.name, TLSGRADE, "--format",
                             "json"] + list(extra) + ["-"],
                            stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    import threading
    out = {}
    reader = threading.Thread(target=lambda: out.update(o=proc.stdout.read()))
    reader.start()
    proc.stdin.write(PCAP_HEADER)
    buf = []
    size = 0
    for c in chunks:
        buf.append(c)
        size += len(c)
        if size > 4 * MB:
            proc.stdin.write(b"".join(buf))
            buf, size = [], 0
    proc.stdin.write(b"".join(buf) + tail_handshake())
    proc.stdin.close()
    err = proc.stderr.read()
    reader.join()
    proc.wait()
    words = peak.read().split()
    peak.close()
    rss = int(words[-1]) if words and words[-1].isdigit() else 0  # KiB, tlsgrade's own
    seconds = time.time() - start
    try:
        report = json.loads(out.get("o", b"{}") or b"{}")
    except ValueError:
        report = {}
    return proc.returncode, report, seconds, rss / 1024.0, err.decode()[-300:]


def check(t, name, result, bound_mb):
    rc, report, seconds, rss, err = result
    bound = bound_mb * (3 if SAN else 1)
    print("  %-34s %6.1f s  peak RSS %6.1f MB (bound %d MB)" % (name, seconds, rss, bound))
    t.eq(rc, 0, name + " exit status: " + err)
    t.check(rss < bound, "%s: peak RSS %.1f MB under %d MB" % (name, rss, bound))
    hosts = [s["host"] for s in report.get("servers", [])]
    t.check("after.example" in hosts, name + ": the handshake after the attack is graded")
    return report


def syn_flood(t):
    n = 2000000 // SCALE
    template = bytearray(tcp_frame("10.0.0.1", 1234, "10.9.9.9", 443, 1, 0, 0x02))

    def frames():
        for i in range(n):
            struct.pack_into("!I", template, 26, 0x0a000000 | (i + 1))  # source IP
            yield rec(bytes(template))
    report = check(t, "%d SYNs" % n, run(frames()), 700)
    limits = report.get("limits", {})
    t.check(limits.get("flows", {}).get("hits", 0) > 0 or n < 500000,
            "the flow table cap was hit and counted: %r" % limits.get("flows"))


def ooo_stream(t):
    total = (1024 * MB) // SCALE
    seg = 1448
    conv_frames = []
    payload = b"\x17\x03\x03" + b"x" * (seg - 3)
    template = bytearray(tcp_frame("10.4.4.4", 50000, "10.5.5.5", 443, 0, 0, 0x18, payload))

    def frames():
        # Sequence numbers start 10 MB ahead (the hole never fills), and each
        # block of 512 segments arrives last-first: every segment lands
        # ahead of the stream, so everything is out of order.
        count, block = total // seg, 512
        for b in range(0, count, block):
            for j in reversed(range(b, min(b + block, count))):
                set_seq(template, 10 * MB + j * seg)  # the checksum stays right
                yield rec(bytes(template))
    conv_frames.append(rec(tcp_frame("10.4.4.4", 50000, "10.5.5.5", 443, 0, 0, 0x02)))
    report = check(t, "%d MiB out of order" % (total // MB),
                   run(itertools.chain(conv_frames, frames())), 150)
    hits = report.get("limits", {}).get("tcp_out_of_order_bytes_per_stream", {}).get("hits", 0)
    t.check(hits > 0, "the out-of-order cap was hit and counted")


def drip_fed_claim(t):
    n = 1000000 // SCALE
    conv = Conversation("10.6.6.6", 51000, "10.7.7.7", 443)
    conv.handshake()
    conv.server_sends(b"\x16\x03\x03\x40\x00\x0b\xff\xff\xff")  # 16 MB Certificate claim
    head = [rec(f) for _, f in conv.frames]
    template = bytearray(tcp_frame("10.7.7.7", 443, "10.6.6.6", 51000, 0, 0, 0x18, b"\x00"))
    start = conv.sseq

    def frames():
        for i in range(n):
            set_seq(template, start + i)
            yield rec(bytes(template))
    check(t, "16 MB claim, %d 1-byte segments" % n, run(itertools.chain(head, frames())), 150)


def overlapping_retransmits(t):
    n = 100000 // SCALE
    conv = Conversation("10.8.8.8", 52000, "10.9.9.8", 443)
    conv.handshake()
    head = [rec(f) for _, f in conv.frames]

    def frames():  # ranges sliding over the same 4 KB, each overlapping the last
        for i in range(n):
            off = (i * 7) % 4096
            yield rec(tcp_frame("10.8.8.8", 52000, "10.9.9.8", 443, conv.cseq + off, 0, 0x18,
                                bytes([i & 0xff]) * 1000))
    check(t, "%d overlapping retransmits" % n, run(itertools.chain(head, frames())), 150)


def fragment_flood(t):
    n = 300000 // SCALE
    def frames():  # first fragments (MF set) of datagrams never completed
        for i in range(n):
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 512, i & 0xffff, 0x2000, 64, 17, 0,
                             struct.pack("!I", 0x0b000000 | i), b"\x0b\xff\xff\xff")
            yield rec(b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + b"\0" * 512)
    report = check(t, "%d IP fragments" % n, run(frames()), 150)
    hits = report.get("limits", {}).get("ip_fragment_datagrams_and_bytes", {}).get("hits", 0)
    t.check(hits > 0, "the fragment cap was hit and counted")


def dtls_claim_frames(flows, per_flow):
    for i in range(per_flow):
        for f in range(flows):
            frag = (struct.pack("!B", 11) + (0x3fffff).to_bytes(3, "big") +
                    struct.pack("!H", 0) + (4096 * (i + 1)).to_bytes(3, "big") +
                    (1).to_bytes(3, "big") + b"\x42")
            record = struct.pack("!BHHHIH", 22, 0xfefd, 0, 0, i, len(frag)) + frag
            yield rec(udp_frame("10.12.0.1", 20000 + f, "10.13.0.1", 4433, record))


def dtls_claims(t):
    """Each datagram: a DTLS 1.2 handshake record (RFC 6347 4.1) holding one
    fragment (4.2.2) of a Certificate that claims 0x3fffff bytes, one byte
    at an offset 4096 bytes past the last: memory must follow the bytes
    that arrive, not the claim."""
    flows, per_flow = 100 // SCALE, 200
    report = check(t, "%d DTLS claims x %d bytes" % (flows, per_flow),
                   run(dtls_claim_frames(flows, per_flow)), 80)
    hits = report.get("limits", {}).get("dtls_pieces_per_direction", {}).get("hits", 0)
    t.eq(hits, flows * (per_flow - 32), "fragments past the 32 held per flow are counted")


def tiny_fragment_frames(datagrams, size=65000):
    for d in range(datagrams):
        udp = struct.pack("!HHHH", 5000, 5001, size, 0) + bytes(size - 8)
        for off in range(0, size, 8):
            more = 0x2000 if off + 8 < size else 0
            piece = udp[off:off + 8]
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(piece), d, more | off // 8, 64,
                             17, 0, b"\x0c\0\0\x01", b"\x0c\0\0\x02")
            yield rec(b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + piece)


def tiny_fragments(t):
    """UDP datagrams of 65,000 bytes cut into 8-byte fragments (RFC 791's
    smallest), in order: each must come out whole (counted in
    reassembled_datagrams), in time linear in the fragments."""
    datagrams = 16 // SCALE or 1
    report = check(t, "%d datagrams in 8-byte fragments" % datagrams,
                   run(tiny_fragment_frames(datagrams)), 150)
    t.eq(report.get("stats", {}).get("reassembled_datagrams"), datagrams,
         "every datagram reassembled")


def pipelined_get_frames(total):
    conv = Conversation("10.14.0.1", 53000, "10.15.0.1", 80)
    conv.handshake()
    for _, f in conv.frames:
        yield rec(f)
    gets = b"GET /x HTTP/1.1\r\nHost: a.example\r\n\r\n" * 40
    template = bytearray(tcp_frame("10.14.0.1", 53000, "10.15.0.1", 80, 0, conv.sseq, 0x18, gets))
    for i in range(total // len(gets)):
        set_seq(template, conv.cseq + i * len(gets))
        yield rec(bytes(template))


def pipelined_gets(t):
    """One clear-text HTTP connection on port 80 whose client pipelines
    small GETs the server never answers (RFC 9112 9.3.2): the first
    request is all that is read."""
    total = (4 * MB) // SCALE
    check(t, "%d MB of unanswered GETs" % (total // MB), run(pipelined_get_frames(total)), 80)


def distinct_offer_frames(n):
    for i in range(n):
        conv = Conversation("10.16.%d.%d" % (i >> 8 & 0xff, i & 0xff), 40000 + (i >> 16),
                            "10.17.0.1", 443, 1700000000.0 + i)
        conv.handshake()
        conv.client_sends(client_hello(sni=b"offers.example", ciphers=(0xc02f, 0x0a0a + i)))
        conv.server_sends(server_hello(cipher=0xc02f))
        for ts, f in conv.frames:
            yield rec(f, int(ts))


def distinct_offers(t):
    """Handshakes to one server, each from a client whose suite list (so
    whose offer digest) no other client sends: grading compares answers
    within one offer, not every pair (no change reported: each offer got
    one answer)."""
    n = 5000 // SCALE
    report = check(t, "%d distinct offers" % n, run(distinct_offer_frames(n)), 150)
    server = [s for s in report.get("servers", []) if s["host"] == "offers.example"]
    t.eq(len(server), 1, "one server")
    t.check(server and "configuration_change" not in server[0], "no configuration change")


def half_done_frames(n):
    cert_head = (b"\x16\x03\x03" + struct.pack("!H", 12 * 1024) + b"\x0b" +
                 (100 * 1024).to_bytes(3, "big") + bytes(12 * 1024 - 4))
    for i in range(n):
        conv = Conversation("10.18.%d.%d" % (i >> 8 & 0xff, i & 0xff), 41000 + (i >> 16),
                            "10.19.0.1", 443, 1700000000.0 + i / 1000)
        conv.handshake()
        conv.client_sends(client_hello(sni=b"half.example"))
        conv.server_sends(server_hello(cipher=0xc02f) + cert_head)
        for ts, f in conv.frames:
            yield rec(f, int(ts))


def half_done_handshakes(t):
    """Connections whose server sends a ServerHello and the first 12 kB of
    a 100 kB Certificate, then nothing: each holds its record and
    handshake buffers until the end.  All of them together stay within
    handshake-buffers: run with the cap out of reach, then at 16 MiB, the
    second holds far less, and the cap's hits are counted."""
    n = 5000 // SCALE
    free = run(half_done_frames(n), ["--limit", "handshake-buffers=%d" % (1 << 40)])
    cap = 16 * MB // SCALE  # below what n connections hold, under SAN=1 too
    capped = run(half_done_frames(n), ["--limit", "handshake-buffers=%d" % cap])
    print("  %d half-done handshakes: peak RSS %.1f MB uncapped, %.1f MB at %d MiB"
          % (n, free[3], capped[3], cap // MB))
    t.eq((free[0], capped[0]), (0, 0), "exit statuses: " + capped[4])
    t.check(free[3] - capped[3] > n * 6 / 1024.0,
            "the cap keeps at least 6 kB per connection off: %.1f vs %.1f MB" % (free[3], capped[3]))
    limits = capped[1].get("limits", {})
    hits = limits.get("handshake_buffers_all_connections", {}).get("hits", 0)
    t.check(hits > 0, "the buffers' cap was hit and counted: %r" % hits)
    hosts = [s["host"] for s in capped[1].get("servers", [])]
    t.check("after.example" in hosts, "the handshake after the attack is still read")


def hello_flood_frames(n, per_second, reset):
    """n ClientHellos, each to its own SNI name from its own address, none
    answered, per_second of them a second; with reset each connection then
    ends with the client's RST (the flow leaves the table 120 s later)."""
    t0 = 1700000000 - 2000
    for i in range(n):
        src = "10.%d.%d.%d" % (20 + (i >> 16), (i >> 8) & 0xff, i & 0xff)
        hello = client_hello(sni=b"h%07d.flood.example" % i)
        sec, usec = t0 + i // per_second, (i % per_second) * (1000000 // per_second)
        segments = [(0x18, 1000, hello)] + ([(0x14, 1000 + len(hello), b"")] if reset else [])
        for flags, seq, data in segments:
            frame = tcp_frame(src, 40000, "10.21.0.1", 443, seq, 0, flags, data)
            yield struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame


def hello_flood(t):
    """ClientHellos, each to its own SNI name, that no server answers:
    the endpoints seen only in ClientHellos are stored small (a few
    hundred bytes each) and folded into one count in the report, not a
    server block of 48 unknown checks each.  Each connection ends with the
    client's RST and the next comes 10 ms later, so that closed flows
    leave the table (120 s after closing) and what stays is the evidence;
    the hellos end before the handshake run() appends."""
    n = 100000 // SCALE
    report = check(t, "%d names seen only in ClientHellos" % n,
                   run(hello_flood_frames(n, 100, True)), 100)
    hello = report.get("hello_only", {})
    t.eq((hello.get("servers"), hello.get("connections")), (n, n), "every name folded, counted")
    t.eq(len(report.get("servers", [])), 1, "one server block: the handshake after the flood")
    t.eq(report.get("limits", {}).get("endpoints", {}).get("hits"), 0, "under the default cap")


def hello_flood_open(t):
    """The same flood with every flow left open (no RST, no FIN): what each
    costs is its flow and the dissector state waiting for an answer, held
    to the end.  An idle direction keeps no record buffer and a ring only
    as large as what it delivered."""
    n = 40000 // SCALE
    report = check(t, "%d open flows, names never answered" % n,
                   run(hello_flood_frames(n, 1000, False)), 140)
    hello = report.get("hello_only", {})
    t.eq((hello.get("servers"), hello.get("connections")), (n, n), "every name folded, counted")


def held_quic_pieces(t):
    """QUIC clients whose Initial carries three 1200-byte CRYPTO frames at
    offsets 1, 1201 and 2401 (RFC 9000 19.6), the byte at 0 never sent:
    each connection holds them till the end, well within its own caps.
    All of them together stay within handshake-buffers: at 4 MiB the run
    holds far less than with the cap out of reach, and the refusals are
    counted."""
    n = 10000 // SCALE
    pieces = b"".join(quic_crypto_frame(1 + 1200 * i, bytes([i]) * 1200) for i in range(3))

    def frames():  # made as sent: the child's peak RSS counts this process's before exec
        for i in range(n):
            packet = quic_initial(struct.pack("!II", 0x51c0ffee, i), 0, pieces)
            yield rec(udp_frame("10.20.%d.%d" % (i >> 8, i & 0xff), 50000, "10.21.0.1", 443,
                                packet))
    free = run(frames(), ["--limit", "handshake-buffers=%d" % (1 << 40)])
    cap = 4 * MB // SCALE  # a tenth of what n connections hold
    capped = run(frames(), ["--limit", "handshake-buffers=%d" % cap])
    print("  %d QUIC connections holding pieces: peak RSS %.1f MB uncapped, %.1f MB at %d MiB"
          % (n, free[3], capped[3], cap // MB))
    t.eq((free[0], capped[0]), (0, 0), "exit statuses: " + capped[4])
    t.check(free[3] - capped[3] > n * 2 / 1024.0,
            "the cap keeps at least 2 kB per connection off: %.1f vs %.1f MB" % (free[3], capped[3]))
    hits = capped[1].get("limits", {}).get("handshake_buffers_all_connections", {}).get("hits", 0)
    t.check(hits >= 3 * n - cap // 1200, "the pieces over the budget are counted: %r" % hits)
    hosts = [s["host"] for s in capped[1].get("servers", [])]
    t.check("after.example" in hosts, "the handshake after the attack is still read")


def main():
    t = Suite()
    for fn in (syn_flood, ooo_stream, drip_fed_claim, overlapping_retransmits, fragment_flood,
               dtls_claims, tiny_fragments, pipelined_gets, distinct_offers,
               half_done_handshakes, hello_flood, hello_flood_open, held_quic_pieces):
        t.run(fn)
    t.done()


if __name__ == "__main__":  # tests/bench/floods.py imports the generators
    main()
