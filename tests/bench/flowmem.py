#!/usr/bin/env python3
"""tests/bench/flowmem.py - memory per concurrent flow, measured.

Streams to `tlsgrade --format json -` captures holding N flows that are all
still open at the end (distinct clients, one server), in three states:
  tcp          three-way handshake done, nothing sent yet;
  handshake    a ClientHello answered by a ServerHello and the first 1,400
               bytes of a 4,000-byte Certificate message, so the connection
               holds its hellos and a partial handshake message;
  established  a whole TLS 1.2 handshake (the server's chain: two
               certificates of samples/certs, the same on every flow), then
               one application-data record each way: what most flows of a
               tap are, kept until they close.
The peak RSS of the tlsgrade process (ru_maxrss from wait4, what
/usr/bin/time -v reports) at two values of N gives the bytes each open flow
costs: (RSS(N2) - RSS(N1)) / (N2 - N1).  Packets are written by hand
(classic pcap, Ethernet/IPv4/TCP, RFC 791/793); TCP checksums are left 0.

usage: flowmem.py TLSGRADE [N1 N2]   (default 20000 100000)"""
import base64
import os
import struct
import subprocess
import sys

T0 = 1700000000


def ip_header(src, dst, length):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, length, 0, 0x4000, 64, 6, 0, src, dst)
    s = sum(struct.unpack("!10H", hdr))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    return hdr[:10] + struct.pack("!H", ~s & 0xffff) + hdr[12:]


def frame(t, src, sport, dst, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 0x50, flags, 65535, 0, 0)
    pkt = (b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" +
           ip_header(src, dst, 40 + len(payload)) + tcp + payload)
    sec, usec = int(t), int((t - int(t)) * 1e6)
    return struct.pack("<IIII", sec, usec, len(pkt), len(pkt)) + pkt


def vec(n, body):
    return len(body).to_bytes(n, "big") + body


def handshake_record(msg_type, body, length=None):
    """RFC 5246 7.4: type, 24-bit length (may claim more than is sent)."""
    msg = bytes([msg_type]) + (len(body) if length is None else length).to_bytes(3, "big") + body
    return b"\x16\x03\x03" + vec(2, msg)


CLIENT_HELLO = handshake_record(1, b"\x03\x03" + bytes(32) + b"\x00" +
                                vec(2, b"\xc0\x2f\xc0\x30\x00\x9c") + b"\x01\x00" +
                                vec(2, b"\xff\x01\x00\x01\x00"))
SERVER_HELLO = handshake_record(2, b"\x03\x03" + bytes(range(32)) + b"\x00\xc0\x2f\x00" +
                                vec(2, b"\xff\x01\x00\x01\x00"))
PARTIAL_CERT = handshake_record(11, bytes(1400), length=4000)


def der(name):
    """The DER bytes of samples/certs/NAME.pem (RFC 7468 text encoding)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples",
                        "certs", name + ".pem")
    text = open(path).read()
    body = text.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return base64.b64decode("".join(body.split()))


CHAIN = handshake_record(11, vec(3, vec(3, der("a")) + vec(3, der("int"))))
HELLO_DONE = handshake_record(14, b"")
CLIENT_KEY_EXCHANGE = handshake_record(16, vec(2, bytes(256)))
CHANGE_CIPHER_SPEC = b"\x14\x03\x03\x00\x01\x01"
FINISHED = b"\x16\x03\x03" + vec(2, bytes(40))  # encrypted: opaque to a passive reader
APP_DATA = b"\x17\x03\x03" + vec(2, bytes(100))


def flows(n, state):
    server = bytes([192, 168, 0, 1])
    t = T0
    for i in range(n):
        client = struct.pack("!I", 0x0a000000 + i)
        cp, cs, ss = 1024 + i % 60000, 1000, 5000
        t += 0.00001
        out = [frame(t, client, cp, server, 443, cs, 0, 0x02),
               frame(t, server, 443, client, cp, ss, cs + 1, 0x12),
               frame(t, client, cp, server, 443, cs + 1, ss + 1, 0x10)]
        if state == "handshake":
            out.append(frame(t, client, cp, server, 443, cs + 1, ss + 1, 0x18, CLIENT_HELLO))
            ack = cs + 1 + len(CLIENT_HELLO)
            out.append(frame(t, server, 443, client, cp, ss + 1, ack, 0x18,
                             SERVER_HELLO + PARTIAL_CERT))
        elif state == "established":
            c, s = cs + 1, ss + 1
            for sender, data in ((0, CLIENT_HELLO), (1, SERVER_HELLO + CHAIN + HELLO_DONE),
                                 (0, CLIENT_KEY_EXCHANGE + CHANGE_CIPHER_SPEC + FINISHED),
                                 (1, CHANGE_CIPHER_SPEC + FINISHED), (0, APP_DATA),
                                 (1, APP_DATA)):
                if sender == 0:
                    out.append(frame(t, client, cp, server, 443, c, s, 0x18, data))
                    c += len(data)
                else:
                    out.append(frame(t, server, 443, client, cp, s, c, 0x18, data))
                    s += len(data)
        yield b"".join(out)


def peak_rss_mb(tlsgrade, n, state):
    proc = subprocess.Popen([tlsgrade, "--format", "json", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.stdin.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
    buf = []
    for chunk in flows(n, state):
        buf.append(chunk)
        if len(buf) >= 4096:
            proc.stdin.write(b"".join(buf))
            buf = []
    proc.stdin.write(b"".join(buf))
    proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        sys.exit("flowmem: tlsgrade failed on %d %s flows (status %d)" % (n, state, status))
    return usage.ru_maxrss / 1024.0


def main():
    tlsgrade = sys.argv[1]
    n1, n2 = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (20000, 100000)
    print("%-10s %14s %14s %16s" % ("state", "RSS %d flows" % n1, "RSS %d flows" % n2,
                                    "bytes per flow"))
    for state in ("tcp", "handshake", "established"):
        a, b = peak_rss_mb(tlsgrade, n1, state), peak_rss_mb(tlsgrade, n2, state)
        print("%-10s %12.1fMB %12.1fMB %16.0f" % (state, a, b, (b - a) * 1024 * 1024 / (n2 - n1)))


main()
