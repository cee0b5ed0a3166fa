#!/usr/bin/env python3
"""samples/craft_demo.py - write the five-day cloud-console demo (stdlib only).

    python3 samples/craft_demo.py [OUTDIR]   (default: the samples/ directory)
    python3 samples/craft_demo.py --list     print the file names it writes

Four consoles of four providers, watched from 2026-01-15 to 2026-01-19, one
capture per day (OUTDIR/demo/day1.pcap .. day5.pcap, each day from 10:00
UTC), and the key log of the connections whose HTTP can be read
(OUTDIR/demo.keylog, outside the directory of captures).  Read the five
files as one capture:

    tlsgrade --ca-file samples/certs/root.pem --keylog samples/demo.keylog samples/demo/

  console.alpha.example   10.0.0.1  RSA key exchange for browsers offering ECDHE
                                    (no forward secrecy); leaf and intermediate
                                    signed with SHA-1
  console.bravo.example   10.0.0.2  good TLS 1.2, but SSL 3.0 with AES-CBC for an
                                    old client (POODLE)
  console.charlie.example 10.0.0.3  TLS 1.2 ECDHE-ChaCha20; its decrypted HTTP
                                    responses carry no HSTS header, and plain
                                    http:// on port 80 answers with the page
  console.delta.example   10.0.0.4  days 1-2: export suite with a 512-bit RSA
                                    ServerKeyExchange, DHE-1024 for browsers,
                                    SSL 3.0 for a fallback retry; from day 3
                                    (the provider's fix): TLS 1.3 for browsers,
                                    ECDHE-GCM with the DOWNGRD01 sentinel for a
                                    TLS 1.2 client, SSL 3.0 and TLS 1.0 refused

Browsers 10.0.0.100 and .101 offer TLS 1.3 and 1.2, 10.0.0.102 is a TLS 1.2
library, .103 an SSL 3.0 client, .104 a TLS 1.0 client offering export suites.
Every client sends the same offer every day, so only delta's answers change.

Charlie's connections are really encrypted (ChaCha20-Poly1305, RFC 7905 and
RFC 8439, keys from a master secret drawn from the seeded PRNG through the
TLS 1.2 PRF, RFC 5246 5 and 6.3): the key log opens them, in tlsgrade and in
Wireshark alike.  Everything else after ChangeCipherSpec is random bytes of
the right length, as in craft.py.  Byte-for-byte reproducible; what each
console must grade as is under "demo" in samples/expected.json.
"""

import hashlib
import hmac
import os
import struct
import sys

from craft import (BROWSER13, BROWSER13_256, CT_ALERT, CT_APP, CT_CCS, CT_HANDSHAKE, EXT_KEY_SHARE,
                   EXT_POINTS, EXT_RENEG, EXT_VERSIONS, SERVER_HELLO_DONE, SSL3, SUITES, TLS10,
                   TLS12, TLS13, X25519, Scenario, Server, Tcp, browser_hello, certificate,
                   client_key_exchange, ext, finished_plain, handshake, hello_random,
                   http_request, http_response, legacy_hello, modern12_hello, rand, record,
                   refused, server_hello, server_key_exchange, ssl3_hello, u16, vec8, vec16)

HERE = os.path.dirname(os.path.abspath(__file__))
DAYS = 5
FIX_DAY = 3  # delta's new configuration answers from the first connection of this day
KEYLOG = "demo.keylog"
PROTOCOL_VERSION = 70  # alert protocol_version (RFC 5246 7.2.2)

# ---------------------------------------------------------------------------
# ChaCha20-Poly1305 (RFC 8439) and the TLS 1.2 key block (RFC 5246)


def _rotl(v, n):
    return ((v << n) & 0xFFFFFFFF) | (v >> (32 - n))


def _quarter(s, a, b, c, d):  # RFC 8439 2.1
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF
    s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF
    s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF
    s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF
    s[b] = _rotl(s[b] ^ s[c], 7)


def chacha20_block(key, counter, nonce):  # RFC 8439 2.3
    init = (list(struct.unpack("<4I", b"expand 32-byte k")) + list(struct.unpack("<8I", key))
            + [counter] + list(struct.unpack("<3I", nonce)))
    s = list(init)
    for _ in range(10):
        for a, b, c, d in ((0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
                           (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14)):
            _quarter(s, a, b, c, d)
    return struct.pack("<16I", *((x + y) & 0xFFFFFFFF for x, y in zip(s, init)))


def chacha20(key, counter, nonce, data):  # RFC 8439 2.4
    out = bytearray()
    for i in range(0, len(data), 64):
        block = chacha20_block(key, counter + i // 64, nonce)
        out += bytes(x ^ y for x, y in zip(data[i:i + 64], block))
    return bytes(out)


def poly1305(key, msg):  # RFC 8439 2.5
    r = int.from_bytes(key[:16], "little") & 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF
    s, p, acc = int.from_bytes(key[16:], "little"), (1 << 130) - 5, 0
    for i in range(0, len(msg), 16):
        acc = (acc + int.from_bytes(msg[i:i + 16] + b"\x01", "little")) * r % p
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")


def aead_seal(key, nonce, plaintext, aad):  # RFC 8439 2.8: ciphertext || tag
    ct = chacha20(key, 1, nonce, plaintext)

    def pad16(b):
        return b"\x00" * (-len(b) % 16)

    mac_data = aad + pad16(aad) + ct + pad16(ct) + struct.pack("<QQ", len(aad), len(ct))
    return ct + poly1305(chacha20_block(key, 0, nonce)[:32], mac_data)


def prf_sha256(secret, label, seed, n):  # RFC 5246 5: P_SHA256(secret, label + seed)
    seed, out, a = label + seed, b"", label + seed
    while len(out) < n:
        a = hmac.new(secret, a, hashlib.sha256).digest()
        out += hmac.new(secret, a + seed, hashlib.sha256).digest()
    return out[:n]


class Sealer:
    """One direction of a TLS 1.2 ChaCha20-Poly1305 connection (RFC 7905 2):
    nonce = write_IV XOR the 64-bit sequence number (left-padded to 96 bits),
    additional data = seq_num + type + version + plaintext length."""

    def __init__(self, key, iv):
        self.key, self.iv, self.seq = key, iv, 0

    def record(self, ctype, version, plaintext):
        nonce = bytes(x ^ y for x, y in zip(self.iv, b"\x00" * 4 + struct.pack("!Q", self.seq)))
        aad = struct.pack("!QBHH", self.seq, ctype, version, len(plaintext))
        self.seq += 1
        return record(ctype, version, aead_seal(self.key, nonce, plaintext, aad))


def sealers(master, crandom, srandom):
    """Client and server sealers from the key block (RFC 5246 6.3; an AEAD
    suite has no MAC keys: client key, server key, client IV, server IV)."""
    kb = prf_sha256(master, b"key expansion", srandom + crandom, 2 * 32 + 2 * 12)
    return Sealer(kb[0:32], kb[64:76]), Sealer(kb[32:64], kb[76:88])


# ---------------------------------------------------------------------------
# Connections the crafted ones of craft.py do not make


def keyed_connection(sc, client_ip, srv, hello, suite, keylog):
    """TLS 1.2 ECDHE-RSA-ChaCha20-Poly1305: handshake, GET /, 200 OK without
    HSTS, close_notify both ways; every protected record really encrypted
    under a master secret written to the key log (NSS key log format)."""
    s, version, r = SUITES[suite], TLS12, sc.rng
    tcp = Tcp(sc.cap, r, sc.clock.next(), (client_ip, sc.client_port()), (srv.ip, 443))
    tcp.open()
    ch, crandom = hello
    tcp.send("c", record(CT_HANDSHAKE, TLS10, ch))
    sh, srandom = server_hello(r, version, suite, ext(EXT_RENEG, vec8(b"")) +
                               ext(EXT_POINTS, vec8(b"\x00")),
                               srandom=hello_random(r, tcp.t // 1000000))
    ske = server_key_exchange(r, srv, s, version, crandom, srandom)
    tcp.send("s", b"".join(record(CT_HANDSHAKE, version, m) for m in
                           (sh, certificate(srv.chain), ske, handshake(SERVER_HELLO_DONE, b""))))
    master = rand(r, 48)
    keylog.append("CLIENT_RANDOM %s %s" % (crandom.hex(), master.hex()))
    client, server = sealers(master, crandom, srandom)
    ccs = record(CT_CCS, version, b"\x01")
    tcp.send("c", record(CT_HANDSHAKE, version, client_key_exchange(r, srv, s, version)) + ccs +
             client.record(CT_HANDSHAKE, version, finished_plain(r, version)))
    tcp.send("s", ccs + server.record(CT_HANDSHAKE, version, finished_plain(r, version)))
    tcp.send("c", client.record(CT_APP, version, http_request(srv.sni)))
    tcp.send("s", server.record(CT_APP, version, http_response(r.randrange(200, 900))))
    alert = b"\x01\x00"  # warning(1), close_notify(0)
    tcp.send("c", client.record(CT_ALERT, version, alert))
    tcp.send("s", server.record(CT_ALERT, version, alert))
    tcp.close("c")


def tls13_connection(sc, client_ip, srv, hello, suite):
    """A TLS 1.3 handshake (RFC 8446 4.1.3): ServerHello with
    supported_versions and an X25519 key_share, then only encrypted records
    (type 23) of the lengths the handshake, GET and answer would have."""
    r, tag = sc.rng, 16
    tcp = Tcp(sc.cap, r, sc.clock.next(), (client_ip, sc.client_port()), (srv.ip, 443))
    tcp.open()
    ch, _ = hello
    tcp.send("c", record(CT_HANDSHAKE, TLS10, ch))
    exts = ext(EXT_VERSIONS, u16(TLS13)) + ext(EXT_KEY_SHARE, u16(X25519) + vec16(rand(r, 32)))
    sh, _ = server_hello(r, TLS12, suite, exts, session_id=b"",
                         srandom=hello_random(r, tcp.t // 1000000))
    # EncryptedExtensions, Certificate, CertificateVerify (RSA-2048), Finished (SHA-256)
    flight = 6 + len(certificate(srv.chain)) + 4 + 4 + 256 + 4 + 32
    protected = record(CT_APP, TLS12, rand(r, flight + 1 + tag))  # + content type, tag
    tcp.send("s", record(CT_HANDSHAKE, TLS12, sh) + protected)
    tcp.send("c", record(CT_APP, TLS12, rand(r, 4 + 32 + 1 + tag)))
    for side, n in (("c", len(http_request(srv.sni))), ("s", r.randrange(300, 900)),
                    ("c", 2), ("s", 2)):
        tcp.send(side, record(CT_APP, TLS12, rand(r, n + 1 + tag)))
    tcp.close("c")


def plain_http(sc, client_ip, srv):
    """http://SNI/ on port 80, answered with the page itself (no redirect)."""
    tcp = Tcp(sc.cap, sc.rng, sc.clock.next(), (client_ip, sc.client_port()), (srv.ip, 80))
    tcp.open()
    tcp.send("c", http_request(srv.sni))
    tcp.send("s", http_response(sc.rng.randrange(200, 900)))
    tcp.close("c")


# ---------------------------------------------------------------------------
# One day


def day(sc, n, keylog):
    r, fixed = sc.rng, n >= FIX_DAY
    alpha = Server("10.0.0.1", "console.alpha.example", ["alpha", "int-sha1"])
    bravo = Server("10.0.0.2", "console.bravo.example", ["bravo", "int"])
    charlie = Server("10.0.0.3", "console.charlie.example", ["charlie", "int"])
    delta = Server("10.0.0.4", "console.delta.example", ["delta", "int"], dh="dh1024",
                   export_key="export512")
    for i, (c, suites) in enumerate((("10.0.0.100", BROWSER13), ("10.0.0.101", BROWSER13_256))):
        # alpha: TLS 1.2, RSA key exchange although the browser offers ECDHE
        sc.conn(c, alpha, hello=browser_hello(r, alpha.sni, suites), version=TLS12,
                suite=(0x009C, 0x009D)[i])
        sc.conn(c, bravo, hello=browser_hello(r, bravo.sni, suites), version=TLS12,
                suite=(0xC02F, 0xC030)[i])
        keyed_connection(sc, c, charlie, browser_hello(r, charlie.sni, suites), 0xCCA8, keylog)
        if i == 0:
            plain_http(sc, c, charlie)
        if fixed:
            tls13_connection(sc, c, delta, browser_hello(r, delta.sni, suites), (0x1301, 0x1302)[i])
        else:  # DHE with the 1024-bit group
            sc.conn(c, delta, hello=browser_hello(r, delta.sni, suites), version=TLS12,
                    suite=0x009E)
    # a TLS 1.2 library: ECDHE-GCM; once delta speaks TLS 1.3, with the sentinel
    sc.conn("10.0.0.102", delta, hello=modern12_hello(r, delta.sni), version=TLS12, suite=0xC02F,
            sentinel=fixed)
    # an SSL 3.0 client gets AES-CBC from bravo (POODLE)
    sc.conn("10.0.0.103", bravo, hello=ssl3_hello(r, bravo.sni), version=SSL3, suite=0x002F)
    # browser .101's fallback retry at SSL 3.0 (with TLS_FALLBACK_SCSV), and an
    # old TLS 1.0 client offering export suites: answered before the fix,
    # refused with protocol_version after it
    fallback = ssl3_hello(r, delta.sni, fallback=True)
    offer = [0x0005, 0x000A, 0x0008, 0x0006, 0x0003]
    export = legacy_hello(r, TLS10, offer, delta.sni)
    if fixed:
        refused(sc.cap, r, sc.clock.next(), "10.0.0.101", sc.client_port(), delta, fallback, SSL3,
                PROTOCOL_VERSION)
        refused(sc.cap, r, sc.clock.next(), "10.0.0.104", sc.client_port(), delta, export, TLS10,
                PROTOCOL_VERSION)
    else:
        sc.conn("10.0.0.101", delta, hello=fallback, version=SSL3, suite=0x002F)
        sc.conn("10.0.0.104", delta, hello=export, version=TLS10, suite=0x0008)


def names():
    return ["demo/day%d.pcap" % n for n in range(1, DAYS + 1)] + [KEYLOG]


def main(argv):
    if argv[1:2] == ["--list"]:
        print("\n".join(names()))
        return 0
    out = argv[1] if len(argv) > 1 else HERE
    os.makedirs(os.path.join(out, "demo"), exist_ok=True)
    keylog = []
    for n in range(1, DAYS + 1):
        name = "demo/day%d.pcap" % n
        sc = Scenario(os.path.join(out, name), name, 24 * (n - 1))
        day(sc, n, keylog)
        sc.close()
        print("wrote %s" % os.path.join(out, name))
    with open(os.path.join(out, KEYLOG), "w") as f:
        f.write("# charlie's connections (samples/craft_demo.py)\n" + "\n".join(keylog) + "\n")
    print("wrote %s" % os.path.join(out, KEYLOG))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
