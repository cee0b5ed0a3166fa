"""The bounds on pieces held ahead of a hole, and the budget of all
connections' handshake state (README "Limits", issue 16): each has a
`--limit` name, and each refusal is counted in the report's `limits`.

Captures are built here: QUIC version 1 Initials protected with the keys of
RFC 9001 5.2 (checked against RFC 9001 A.1, and tshark must read the
CRYPTO frames back), DTLS 1.2 handshake fragments (RFC 6347 4.2.2) and
IPv4 fragments (RFC 791).  Expected counts follow from how the capture is
built: which pieces can be held, and how many bytes the budget has."""
import json
import os
import struct
import subprocess
import tempfile

from oracle import Suite, run_tlsgrade
from pcapgen import (dtls_handshake_fragment, quic_crypto_frame, quic_initial, quic_initial_keys,
                     udp_frame, write_pcap)

TMP = tempfile.mkdtemp(prefix="tlsgrade-piece-limits-")
T0 = 1700000000.0


def report(pcap, *extra):
    rc, out, err = run_tlsgrade(["--format", "json"] + list(extra) + [pcap])
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, {}, err


def limit(rep, name):
    return rep.get("limits", {}).get(name, {})


def tshark_crypto_offsets(pcap):
    out = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-e", "quic.crypto.offset"],
                         capture_output=True, text=True, check=True).stdout
    return [sorted(int(x) for x in line.split(",") if x) for line in out.splitlines()]


def keys_rfc9001(t):
    key, iv, hp = quic_initial_keys(bytes.fromhex("8394c8f03e515708"))
    t.eq((key.hex(), iv.hex(), hp.hex()),
         ("1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c",
          "9f50449e04a0e810283a1e9933adedd2"), "RFC 9001 A.1 client keys")


def quic_flow(path, n_flows, frames_of_packet, packets=1):
    frames = []
    for f in range(n_flows):
        dcid = struct.pack("!II", 0x51c0ffee, f)
        for pn in range(packets):
            payload = b"".join(frames_of_packet(pn))
            frames.append((T0 + f / 1000 + pn / 1e6,
                           udp_frame("10.40.%d.%d" % (f >> 8, f & 0xff), 50000, "10.41.0.1", 443,
                                     quic_initial(dcid, pn, payload))))
    write_pcap(path, frames)
    return path


def quic_pieces(t):
    """One client: ten one-byte CRYPTO frames at offsets 1..10, then one at
    20; the bytes before offset 1 never come.  At 4 pieces, 4 are held and
    7 refused."""
    pcap = quic_flow(os.path.join(TMP, "quic-pieces.pcap"), 1,
                     lambda pn: ([quic_crypto_frame(o, b"\x42") for o in range(1, 11)]
                                 if pn == 0 else [quic_crypto_frame(20, b"\x42")]), packets=2)
    t.eq(tshark_crypto_offsets(pcap), [list(range(1, 11)), [20]], "tshark reads the CRYPTO frames")
    rc, rep, err = report(pcap, "--limit", "quic-crypto-pieces=4")
    t.eq(rc, 0, "exit status: " + err)
    t.eq(limit(rep, "quic_crypto_pieces_per_direction"), {"limit": 4, "hits": 7},
         "6 + 1 pieces past the 4 held")
    rc, rep, err = report(pcap)
    t.eq(limit(rep, "quic_crypto_pieces_per_direction"), {"limit": 256, "hits": 0},
         "all 11 held by default")


def quic_budget(t):
    """40 clients, each an Initial of three 1200-byte CRYPTO frames at
    offsets 1, 1201 and 2401 (no byte 0): every piece waits.  Each is far
    below a connection's own caps; with `--limit handshake-buffers=32768`
    at most 32768 / 1200 = 27 pieces of all connections are held (a
    1200-byte piece is more than the 1 kB always granted), so at least
    120 - 27 = 93 are refused and counted."""
    n = 40
    pcap = quic_flow(os.path.join(TMP, "quic-budget.pcap"), n,
                     lambda pn: [quic_crypto_frame(1 + 1200 * i, bytes([i]) * 1200)
                                 for i in range(3)])
    t.eq(tshark_crypto_offsets(pcap)[:1], [[1, 1201, 2401]], "tshark reads the CRYPTO frames")
    rc, rep, err = report(pcap, "--limit", "handshake-buffers=32768")
    t.eq(rc, 0, "exit status: " + err)
    hits = limit(rep, "handshake_buffers_all_connections").get("hits", 0)
    t.check(93 <= hits <= 3 * n, "pieces over the budget counted: %r" % hits)
    t.eq(limit(rep, "quic_crypto_pieces_per_direction").get("hits"), 0,
         "no connection's own cap was hit")
    rc, rep, err = report(pcap)
    t.eq(limit(rep, "handshake_buffers_all_connections").get("hits"), 0,
         "the default budget holds them all")


def dtls_flow(path, n_flows, fragments):
    frames = []
    for f in range(n_flows):
        for i, (msg_len, off, data) in enumerate(fragments):
            record = dtls_handshake_fragment(11, msg_len, off, data, record_seq=i)
            frames.append((T0 + f / 1000 + i / 1e6,
                           udp_frame("10.42.0.1", 4433, "10.43.%d.%d" % (f >> 8, f & 0xff),
                                     40000, record)))
    write_pcap(path, frames)
    return path


def dtls_pieces(t):
    """A server's Certificate of 2000 bytes in ten one-byte fragments at
    offsets 100, 200, ... 1000: none reaches offset 0.  At 4 pieces, 6 are
    refused, and counted as the pieces' cap, not the handshake cap."""
    pcap = dtls_flow(os.path.join(TMP, "dtls-pieces.pcap"), 1,
                     [(2000, off, b"\x42") for off in range(100, 1001, 100)])
    rc, rep, err = report(pcap, "--limit", "dtls-pieces=4")
    t.eq(rc, 0, "exit status: " + err)
    t.eq(limit(rep, "dtls_pieces_per_direction"), {"limit": 4, "hits": 6}, "pieces past the 4")
    t.eq(limit(rep, "handshake_bytes_per_direction").get("hits"), 0, "not the handshake cap")
    rc, rep, err = report(pcap)
    t.eq(limit(rep, "dtls_pieces_per_direction"), {"limit": 32, "hits": 0}, "all 10 by default")


def dtls_budget(t):
    """20 servers, each sending the first 3000 bytes of a 9000-byte
    Certificate: each message needs more than 2 kB of buffer (more than
    the 1 kB always granted), so with `--limit handshake-buffers=16384` at
    most 16384 / 2048 = 8 are kept and at least 12 refused, once each."""
    n = 20
    pcap = dtls_flow(os.path.join(TMP, "dtls-budget.pcap"), n, [(9000, 0, b"\x42" * 3000)])
    rc, rep, err = report(pcap, "--limit", "handshake-buffers=16384")
    t.eq(rc, 0, "exit status: " + err)
    hits = limit(rep, "handshake_buffers_all_connections").get("hits", 0)
    t.check(12 <= hits <= n, "messages over the budget counted: %r" % hits)
    rc, rep, err = report(pcap)
    t.eq(limit(rep, "handshake_buffers_all_connections").get("hits"), 0, "none by default")


def fragment_pieces(t):
    """One UDP datagram of 88 bytes (8 of header) in eleven 8-byte IPv4
    fragments sent last first: each is a piece of its own.  At 4 pieces, 4
    are held and 7 refused; the datagram never completes."""
    udp = struct.pack("!HHHH", 5000, 5001, 88, 0) + bytes(80)
    frames = []
    for k, off in enumerate(reversed(range(0, 88, 8))):
        more = 0x2000 if off + 8 < 88 else 0
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 7, more | off // 8, 64, 17, 0,
                         b"\x0a\x2c\0\x01", b"\x0a\x2c\0\x02")
        frames.append((T0 + k / 1000, b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip +
                       udp[off:off + 8]))
    pcap = os.path.join(TMP, "fragments.pcap")
    write_pcap(pcap, frames)
    rc, rep, err = report(pcap, "--limit", "fragment-pieces=4")
    t.eq(rc, 0, "exit status: " + err)
    t.eq(limit(rep, "ip_fragment_pieces_per_datagram"), {"limit": 4, "hits": 7}, "7 refused")
    t.eq(limit(rep, "ip_fragment_datagrams_and_bytes").get("hits"), 0, "not the datagrams' cap")
    t.eq(rep.get("stats", {}).get("reassembled_datagrams"), 0, "the datagram stays incomplete")
    rc, rep, err = report(pcap)
    t.eq(limit(rep, "ip_fragment_pieces_per_datagram"), {"limit": 64, "hits": 0}, "none by default")
    t.eq(rep.get("stats", {}).get("reassembled_datagrams"), 1, "reassembled by default")


def main():
    t = Suite()
    for fn in (keys_rfc9001, quic_pieces, quic_budget, dtls_pieces, dtls_budget, fragment_pieces):
        t.run(fn)
    t.done()


main()
