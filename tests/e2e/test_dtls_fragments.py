"""DTLS handshake fragments out of order within a message (RFC 6347
4.2.3): the corpus capture ndpi__dtls_certificate_fragments.pcap sends the
server's Certificate in two fragments (frames 4 and 5).  Rebuilt here,
frame 4's fragment [0, 1308) is cut in two and the later half sent first:
the message must come out whole, with the chain tlsgrade reads from the
capture as recorded, and tshark must read the same certificate from both."""
import json
import os
import struct
import subprocess
import tempfile

from oracle import CORPUS, Suite, run_tlsgrade
from pcapgen import udp_frame, write_pcap

PLAIN = os.path.join(CORPUS, "pcaps", "ndpi__dtls_certificate_fragments.pcap")
TMP = tempfile.mkdtemp(prefix="tlsgrade-dtls-frag-")


def datagrams():
    out = subprocess.run(["tshark", "-r", PLAIN, "-T", "fields", "-e", "ip.src", "-e", "udp.srcport",
                          "-e", "ip.dst", "-e", "udp.dstport", "-e", "udp.payload"],
                         capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line.count("\t") == 4]


def split_certificate(payload):
    """Records of one datagram (RFC 6347 4.1: 13-byte header), with each
    Certificate (11) fragment at offset 0 replaced by its second half then
    its first half (4.2.2: a 12-byte fragment header each)."""
    out, pos = b"", 0
    while pos < len(payload):
        ctype, version, epoch, seq_hi, seq_lo, length = struct.unpack_from("!BHHHIH", payload, pos)
        body = payload[pos + 13:pos + 13 + length]
        pos += 13 + length
        if ctype == 22 and body[0] == 11 and body[6:9] == b"\0\0\0":
            msg_len, msg_seq = body[1:4], body[4:6]
            frag = body[12:]
            half = len(frag) // 2
            parts = [(half, frag[half:]), (0, frag[:half])]
            body = b"".join(bytes([11]) + msg_len + msg_seq + off.to_bytes(3, "big") +
                            len(data).to_bytes(3, "big") + data for off, data in parts)
        out += struct.pack("!BHHHIH", ctype, version, epoch, seq_hi, seq_lo, len(body)) + body
    return out


def certs_tshark(pcap):
    out = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-e", "dtls.handshake.certificate"],
                         capture_output=True, text=True, check=True).stdout
    return [x for x in out.split() if x]


def chain(t, pcap):
    rc, out, err = run_tlsgrade(["--handshakes", pcap])
    t.eq(rc, 0, "exit status: " + err)
    lines = [json.loads(x) for x in out.splitlines()]
    return [c.get("sha256") for c in lines[0].get("cert_chain", [])] if lines else []


def reordered(t):
    frames = []
    for i, (src, sport, dst, dport, payload) in enumerate(datagrams()):
        data = bytes.fromhex(payload)
        if i == 3:  # frame 4: ServerHello and the first Certificate fragment
            data = split_certificate(data)
        frames.append((1700000000 + i / 100, udp_frame(src, int(sport), dst, int(dport), data)))
    pcap = os.path.join(TMP, "reordered.pcap")
    write_pcap(pcap, frames)
    t.check(len(certs_tshark(PLAIN)) > 0, "tshark reads a certificate from the recorded capture")
    t.eq(certs_tshark(pcap), certs_tshark(PLAIN), "tshark reads the same certificates rebuilt")
    want = chain(t, PLAIN)
    t.check(len(want) > 0, "tlsgrade reads the recorded chain")
    t.eq(chain(t, pcap), want, "the same chain from the fragments out of order")


def main():
    t = Suite()
    t.run(reordered)
    t.done()


main()
