#!/usr/bin/env python3
"""Extract hello message bodies from the shared corpus into NAME.hex files.

Run once from the repository root (needs tshark); the .hex files are
committed, so the unit test does not need tshark.  Each file holds the
handshake message body (after the 4-byte TLS / 12-byte DTLS handshake
header; for SSLv2 starting at msg_type), hex, 32 bytes a line.

Streams come from `tshark -q -z follow,tcp|udp,raw,N`; records are walked
here (not by tlsgrade), and the expected values the test checks are taken
from corpus/expected/*.tshark.tsv, not from this script.
"""
import os
import subprocess
import sys

CORPUS = os.environ.get("CORPUS", "/work/shared/corpus")
OUT = os.path.dirname(os.path.abspath(__file__))

# (output name, capture, transport, stream, direction, kind, index)
# kind: 1 ClientHello / 2 ServerHello (TLS/DTLS), v2 SSLv2 message;
# index: which message of that kind in the direction (0 = first).
WANT = [
    ("tls13-ech.ch", "zeek__tls13-ech.pcap", "tcp", 1, 0, 1, 0),
    ("tls13-ech.sh", "zeek__tls13-ech.pcap", "tcp", 1, 1, 2, 0),
    ("split-ch.ch", "arkime__tls-split-client-hello.pcap", "tcp", 0, 0, 1, 0),
    ("split-ch.sh", "arkime__tls-split-client-hello.pcap", "tcp", 0, 1, 2, 0),
    ("tls1.ch", "arkime__openssl-tls1.pcap", "tcp", 0, 0, 1, 0),
    ("tls1.sh", "arkime__openssl-tls1.pcap", "tcp", 0, 1, 2, 0),
    ("ssl3.ch", "arkime__openssl-ssl3.pcap", "tcp", 0, 0, 1, 0),
    ("ssl3.sh", "arkime__openssl-ssl3.pcap", "tcp", 0, 1, 2, 0),
    ("sslv2.ch", "zeek__ssl-v2.pcap", "tcp", 0, 0, "v2", 0),
    ("sslv2.sh", "zeek__ssl-v2.pcap", "tcp", 0, 1, "v2", 0),
    ("hrr.ch1", "zeek__hrr.pcap", "tcp", 0, 0, 1, 0),
    ("hrr.hrr", "zeek__hrr.pcap", "tcp", 0, 1, 2, 0),
    ("hrr.ch2", "zeek__hrr.pcap", "tcp", 0, 0, 1, 1),
    ("hrr.sh", "zeek__hrr.pcap", "tcp", 0, 1, 2, 1),
    ("sha1.ch", "ndpi__tls_malicious_sha1.pcapng", "tcp", 0, 0, 1, 0),
    ("sha1.sh", "ndpi__tls_malicious_sha1.pcapng", "tcp", 0, 1, 2, 0),
    ("nss.sh", "scapy__tls_nss_example.pcap", "tcp", 0, 1, 2, 0),
    ("alert.ch", "ndpi__tls_alert.pcap", "tcp", 0, 0, 1, 0),
    ("ftp.ch", "ndpi__ftp-start-tls.pcap", "tcp", 0, 0, 1, 0),
    ("certlong.ch", "ndpi__tls_certificate_too_long.pcap", "tcp", 2, 0, 1, 0),
    ("certlong.sh", "ndpi__tls_certificate_too_long.pcap", "tcp", 2, 1, 2, 0),
    ("heartbleed.ch", "zeek__heartbleed-success.pcap", "tcp", 0, 0, 1, 0),
    ("heartbleed.sh", "zeek__heartbleed-success.pcap", "tcp", 0, 1, 2, 0),
    ("sct.ch", "zeek__signed_certificate_timestamp.pcap", "tcp", 0, 0, 1, 0),
    ("sct.sh", "zeek__signed_certificate_timestamp.pcap", "tcp", 0, 1, 2, 0),
    ("ocsp.ch", "zeek__ocsp-stapling.pcap", "tcp", 0, 0, 1, 0),
    ("dtls10.ch2", "zeek__dtls1_0.pcap", "udp", 0, 0, 1, 1),
    ("dtls10.sh", "zeek__dtls1_0.pcap", "udp", 0, 1, 2, 0),
    ("dtlsfrag0.ch2", "ndpi__dtls_certificate_fragments.pcap", "udp", 0, 0, 1, 1),
    ("dtlsfrag1.ch", "ndpi__dtls_certificate_fragments.pcap", "udp", 1, 0, 1, 0),
]


def follow(capture, transport, stream):
    """Chunks per direction (0 = first speaker) as bytes lists."""
    out = subprocess.run(
        ["tshark", "-n", "-r", os.path.join(CORPUS, "pcaps", capture), "-q",
         "-z", "follow,%s,raw,%d" % (transport, stream)],
        capture_output=True, text=True, check=True).stdout
    chunks = ([], [])
    started = False
    for line in out.splitlines():
        if line.startswith("Node 1:"):
            started = True
            continue
        if not started or not line.strip() or line.startswith("="):
            continue
        direction = 1 if line.startswith("\t") else 0
        chunks[direction].append(bytes.fromhex(line.strip()))
    return chunks


def tls_messages(data):
    """Handshake messages (type, body) of a TLS byte stream."""
    start = 0
    while start + 3 <= len(data):   # skip STARTTLS text before the records
        if data[start] == 0x16 and data[start + 1] == 3 and data[start + 2] <= 4:
            break
        start += 1
    hs, pos = b"", start
    while pos + 5 <= len(data):
        ctype, length = data[pos], int.from_bytes(data[pos + 3:pos + 5], "big")
        if ctype == 22:
            hs += data[pos + 5:pos + 5 + length]
        pos += 5 + length
    # After a TLS 1.2 ChangeCipherSpec the handshake records are encrypted;
    # they come after the hellos, so the indexes below are not affected.
    msgs, pos = [], 0
    while pos + 4 <= len(hs):
        length = int.from_bytes(hs[pos + 1:pos + 4], "big")
        msgs.append((hs[pos], hs[pos + 4:pos + 4 + length]))
        pos += 4 + length
    return msgs


def dtls_messages(datagrams):
    """Handshake messages of epoch 0, fragments joined (in-order only)."""
    msgs, partial = [], {}
    for dgram in datagrams:
        pos = 0
        while pos + 13 <= len(dgram):
            ctype = dgram[pos]
            epoch = int.from_bytes(dgram[pos + 3:pos + 5], "big")
            length = int.from_bytes(dgram[pos + 11:pos + 13], "big")
            rec = dgram[pos + 13:pos + 13 + length]
            pos += 13 + length
            if ctype != 22 or epoch != 0 or len(rec) < 12:
                continue
            mlen = int.from_bytes(rec[1:4], "big")
            seq = int.from_bytes(rec[4:6], "big")
            frag_off = int.from_bytes(rec[6:9], "big")
            frag_len = int.from_bytes(rec[9:12], "big")
            have = partial.get(seq, b"") if frag_off else b""
            if frag_off != len(have):
                continue
            have += rec[12:12 + frag_len]
            if len(have) == mlen:
                msgs.append((rec[0], have))
                partial.pop(seq, None)
            else:
                partial[seq] = have
    return msgs


def sslv2_messages(data):
    msgs, pos = [], 0
    while pos + 2 <= len(data) and data[pos] & 0x80:
        length = ((data[pos] & 0x7f) << 8) | data[pos + 1]
        body = data[pos + 2:pos + 2 + length]
        msgs.append(("v2", body))
        pos += 2 + length
    return msgs


def main():
    for name, capture, transport, stream, direction, kind, index in WANT:
        chunks = follow(capture, transport, stream)[direction]
        if transport == "udp":
            msgs = dtls_messages(chunks)
        elif kind == "v2":
            msgs = sslv2_messages(b"".join(chunks))
        else:
            msgs = tls_messages(b"".join(chunks))
        bodies = [body for t, body in msgs if t == kind]
        if len(bodies) <= index:
            sys.exit("%s: message not found" % name)
        body = bodies[index]
        with open(os.path.join(OUT, name + ".hex"), "w") as f:
            f.write("# %s %s stream %d dir %d\n" % (capture, transport, stream, direction))
            for i in range(0, len(body), 32):
                f.write(body[i:i + 32].hex() + "\n")
        print("%-16s %5d bytes" % (name, len(body)))


if __name__ == "__main__":
    main()
