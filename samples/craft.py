#!/usr/bin/env python3
"""samples/craft.py - write the crafted sample captures (Python 3 stdlib only).

    python3 samples/craft.py [OUTDIR]      (default: the samples/ directory)
    python3 samples/craft.py --list        print the file names it writes

OpenSSL 3 can no longer speak SSLv2, SSLv3, export or RC4 suites, nor send a
512-bit DH group, TLS compression or a Heartbleed answer.  This script builds
those exchanges by hand: classic pcap files (microsecond timestamps, link type
Ethernet) with Ethernet II / IPv4 / TCP framing (valid IP and TCP checksums,
SYN / SYN-ACK / ACK, sequence and acknowledgement numbers, FIN teardown)
carrying TLS records whose handshake messages are built field by field after
RFC 6101 (SSL 3.0), RFC 2246 / 4346 / 5246 (TLS 1.0 / 1.1 / 1.2), RFC 4492
(ECC), RFC 5746 (renegotiation_info), RFC 6066 (SNI, status_request), RFC 6520
(heartbeat), RFC 7507 (TLS_FALLBACK_SCSV) and the SSL 2.0 draft (Hickman 1995).

What is real and what is not:
  - certificates are the DER of samples/certs/*.pem (made by make-certs.sh);
  - ServerKeyExchange signatures are real RSA PKCS#1 v1.5 signatures by the
    certificate's key over client_random + server_random + params, and DH
    public values are real g^x mod p for the committed groups;
  - RSA ClientKeyExchange values are real PKCS#1 v1.5 encryptions of a
    pre-master secret under the server's (or the export) key;
  - everything after ChangeCipherSpec (Finished, application data, alerts,
    heartbeats, renegotiation) is random bytes with the lengths the
    negotiated cipher would give (explicit IV / nonce, MAC, padding, tag).

Every capture is reproducible byte for byte: randomness comes from a PRNG
seeded with the file name, and time starts at a fixed instant (2026-01-15,
inside the certificates' validity 2025..2045).  Server addresses are unique
per file (10.1.N.x; the cloud-console demo uses 10.0.0.1-4), so reading the
whole samples/ directory as one capture merges nothing by accident.  What
each file must grade as is in samples/expected.json.
"""

import base64
import calendar
import hashlib
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CERTS = os.path.join(HERE, "certs")
EPOCH_START = calendar.timegm((2026, 1, 15, 10, 0, 0))

# ---------------------------------------------------------------------------
# PEM / DER / RSA (just enough ASN.1 to read our own keys and DH groups)


def pem_blocks(path):
    """[(label, der)] of every PEM block in the file."""
    blocks, label, lines = [], None, []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("-----BEGIN "):
                label, lines = line[11:-5], []
            elif line.startswith("-----END ") and label:
                blocks.append((label, base64.b64decode("".join(lines))))
                label = None
            elif label:
                lines.append(line)
    return blocks


def der_tlv(buf, i):
    """(tag, content start, content end) of the DER element at buf[i]."""
    tag, length = buf[i], buf[i + 1]
    i += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(buf[i:i + n], "big")
        i += n
    return tag, i, i + length


def der_children(buf, start, end):
    out = []
    while start < end:
        tag, s, e = der_tlv(buf, start)
        out.append((tag, s, e))
        start = e
    return out


def der_ints(buf, start, end):
    return [int.from_bytes(buf[s:e], "big") for tag, s, e in der_children(buf, start, end)
            if tag == 0x02]


class RsaKey:
    def __init__(self, n, e, d=None):
        self.n, self.e, self.d = n, e, d
        self.size = (n.bit_length() + 7) // 8

    @classmethod
    def load(cls, path):
        label, der = pem_blocks(path)[0]
        _, s, e = der_tlv(der, 0)
        if label == "PRIVATE KEY":  # PKCS#8: version, AlgorithmIdentifier, OCTET STRING
            kids = der_children(der, s, e)
            _, os_s, os_e = kids[2]
            der = der[os_s:os_e]
            _, s, e = der_tlv(der, 0)
        ints = der_ints(der, s, e)  # RSAPrivateKey: 0, n, e, d, p, q, ...
        return cls(ints[1], ints[2], ints[3])

    def _pad1(self, payload):  # EMSA-PKCS1-v1_5 / block type 1
        return b"\x00\x01" + b"\xff" * (self.size - 3 - len(payload)) + b"\x00" + payload

    def sign(self, payload):
        m = int.from_bytes(self._pad1(payload), "big")
        return pow(m, self.d, self.n).to_bytes(self.size, "big")

    def encrypt(self, message, rng):  # RSAES-PKCS1-v1_5 / block type 2
        ps = bytes(rng.randrange(1, 256) for _ in range(self.size - 3 - len(message)))
        m = int.from_bytes(b"\x00\x02" + ps + b"\x00" + message, "big")
        return pow(m, self.e, self.n).to_bytes(self.size, "big")


# DigestInfo prefix of SHA-256 (RFC 8017 9.2, note 1)
SHA256_DIGESTINFO = bytes.fromhex("3031300d060960864801650304020105000420")


def sign_params(key, version, data):
    """The digitally-signed ServerKeyExchange params (RFC 5246 4.7 / 7.4.3)."""
    if version >= 0x0303:
        # TLS 1.2: SignatureAndHashAlgorithm {sha256(4), rsa(1)} + signature<0..2^16-1>
        sig = key.sign(SHA256_DIGESTINFO + hashlib.sha256(data).digest())
        return b"\x04\x01" + u16(len(sig)) + sig
    # SSL 3.0 .. TLS 1.1: MD5(data) || SHA-1(data), no DigestInfo
    sig = key.sign(hashlib.md5(data).digest() + hashlib.sha1(data).digest())
    return u16(len(sig)) + sig


def load_cert(name):
    return pem_blocks(os.path.join(CERTS, name + ".pem"))[0][1]


def load_key(name):
    return RsaKey.load(os.path.join(CERTS, name + ".key"))


def load_dh(name):
    label, der = pem_blocks(os.path.join(CERTS, name + ".pem"))[0]
    _, s, e = der_tlv(der, 0)
    p, g = der_ints(der, s, e)[:2]  # DHParameter ::= SEQUENCE { prime, base }
    return p, g


# ---------------------------------------------------------------------------
# Byte helpers


def u8(v):
    return struct.pack("!B", v)


def u16(v):
    return struct.pack("!H", v)


def u24(v):
    return struct.pack("!I", v)[1:]


def vec8(b):
    return u8(len(b)) + b


def vec16(b):
    return u16(len(b)) + b


def vec24(b):
    return u24(len(b)) + b


def inet(dotted):
    return bytes(int(x) for x in dotted.split("."))


# ---------------------------------------------------------------------------
# pcap + Ethernet / IPv4 / TCP


class Pcap:
    """Classic libpcap file: magic a1b2c3d4, v2.4, snaplen 65535, DLT_EN10MB."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))

    def write(self, t_us, frame):
        self.f.write(struct.pack("<IIII", t_us // 1000000, t_us % 1000000, len(frame), len(frame)))
        self.f.write(frame)

    def close(self):
        self.f.close()


def checksum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
MSS = 1460


class Host:
    def __init__(self, ip, port, rng):
        self.ip = inet(ip)
        self.port = port
        self.mac = b"\x02\x00" + self.ip  # locally administered, from the address
        self.seq = rng.randrange(1 << 32)  # initial sequence number
        self.ip_id = rng.randrange(1 << 16)


class Tcp:
    """One TCP connection, written packet by packet with consistent numbers.

    The capture point is next to the client: a packet from the other side
    than the previous one arrives half a round trip later."""

    def __init__(self, cap, rng, t_us, client, server, rtt_us=18000):
        self.cap, self.rng, self.t = cap, rng, t_us
        self.c = Host(client[0], client[1], rng)
        self.s = Host(server[0], server[1], rng)
        self.rtt = rtt_us
        self.last = None

    def _side(self, side):
        return (self.c, self.s) if side == "c" else (self.s, self.c)

    def _emit(self, side, flags, payload=b"", options=b""):
        src, dst = self._side(side)
        self.t += (self.rtt // 2 if self.last not in (None, side) else 0) + self.rng.randrange(30, 250)
        self.last = side
        window = 64240 if side == "c" else 65160
        hlen = 20 + len(options)
        ack = dst.seq if flags & ACK else 0
        tcp = struct.pack("!HHIIBBHHH", src.port, dst.port, src.seq, ack, (hlen // 4) << 4,
                          flags, window, 0, 0) + options
        pseudo = src.ip + dst.ip + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
        csum = checksum(pseudo + tcp + payload)
        tcp = tcp[:16] + u16(csum) + tcp[18:]
        src.ip_id = (src.ip_id + 1) & 0xFFFF
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), src.ip_id,
                         0x4000, 64, 6, 0, src.ip, dst.ip)  # DF, TTL 64
        ip = ip[:10] + u16(checksum(ip)) + ip[12:]
        eth = dst.mac + src.mac + b"\x08\x00"
        self.cap.write(self.t, eth + ip + tcp + payload)
        src.seq = (src.seq + len(payload) + (1 if flags & (SYN | FIN) else 0)) & 0xFFFFFFFF

    def open(self):
        mss = b"\x02\x04" + u16(MSS)  # option kind 2 (MSS), length 4
        self._emit("c", SYN, options=mss)
        self._emit("s", SYN | ACK, options=mss)
        self._emit("c", ACK)

    def send(self, side, data):
        """data in MSS-sized segments, the last one with PSH; the peer ACKs."""
        for i in range(0, len(data), MSS):
            chunk = data[i:i + MSS]
            self._emit(side, ACK | (PSH if i + MSS >= len(data) else 0), chunk)
        self._emit("s" if side == "c" else "c", ACK)

    def close(self, first="c"):
        other = "s" if first == "c" else "c"
        self._emit(first, FIN | ACK)
        self._emit(other, FIN | ACK)
        self._emit(first, ACK)


# ---------------------------------------------------------------------------
# TLS registry: what the crafted exchanges negotiate or offer

SSL3, TLS10, TLS11, TLS12, TLS13 = 0x0300, 0x0301, 0x0302, 0x0303, 0x0304


class Suite:
    def __init__(self, code, name, kx, cipher, block=0, mac=0):
        self.code, self.name, self.kx, self.cipher = code, name, kx, cipher
        self.block, self.mac = block, mac  # CBC block size; HMAC length (0: AEAD)


SUITES = {}
for _row in [
    (0x0001, "TLS_RSA_WITH_NULL_MD5", "RSA", "null", 0, 16),
    (0x0002, "TLS_RSA_WITH_NULL_SHA", "RSA", "null", 0, 20),
    (0x003B, "TLS_RSA_WITH_NULL_SHA256", "RSA", "null", 0, 32),
    (0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", "RSA_EXPORT", "rc4", 0, 16),
    (0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", "RSA_EXPORT", "cbc", 8, 16),
    (0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", "RSA_EXPORT", "cbc", 8, 20),
    (0x0004, "TLS_RSA_WITH_RC4_128_MD5", "RSA", "rc4", 0, 16),
    (0x0005, "TLS_RSA_WITH_RC4_128_SHA", "RSA", "rc4", 0, 20),
    (0x0009, "TLS_RSA_WITH_DES_CBC_SHA", "RSA", "cbc", 8, 20),
    (0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "RSA", "cbc", 8, 20),
    (0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", "RSA", "cbc", 16, 20),
    (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", "RSA", "cbc", 16, 20),
    (0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", "RSA", "cbc", 16, 32),
    (0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", "RSA", "gcm"),
    (0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", "RSA", "gcm"),
    (0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", "DHE", "cbc", 8, 20),
    (0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "DHE", "cbc", 16, 20),
    (0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "DHE", "cbc", 16, 20),
    (0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE", "gcm"),
    (0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE", "gcm"),
    (0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", "DH_anon", "cbc", 16, 20),
    (0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE", "rc4", 0, 20),
    (0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE", "cbc", 8, 20),
    (0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE", "cbc", 16, 20),
    (0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE", "cbc", 16, 20),
    (0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE", "cbc", 16, 32),
    (0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE", "gcm"),
    (0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE", "gcm"),
    (0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE", "chacha"),
    (0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE", "cbc", 16, 20),
    (0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE", "cbc", 16, 20),
    (0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE", "gcm"),
    (0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE", "gcm"),
    (0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE", "chacha"),
    (0xC018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", "ECDH_anon", "cbc", 16, 20),
    (0xC019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA", "ECDH_anon", "cbc", 16, 20),
    (0x1301, "TLS_AES_128_GCM_SHA256", "TLS13", "gcm"),
    (0x1302, "TLS_AES_256_GCM_SHA384", "TLS13", "gcm"),
    (0x1303, "TLS_CHACHA20_POLY1305_SHA256", "TLS13", "chacha"),
]:
    SUITES[_row[0]] = Suite(*_row)

SCSV_RENEG = 0x00FF  # TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 3.3)
SCSV_FALLBACK = 0x5600  # TLS_FALLBACK_SCSV (RFC 7507)
DOWNGRD01 = b"DOWNGRD\x01"  # a TLS 1.3 server's random to a TLS 1.2 client (RFC 8446 4.1.3)

# Handshake types (RFC 5246 7.4; 22 = certificate_status, RFC 6066 8)
HELLO_REQUEST, CLIENT_HELLO, SERVER_HELLO, NEW_SESSION_TICKET = 0, 1, 2, 4
CERTIFICATE, SERVER_KEY_EXCHANGE, SERVER_HELLO_DONE = 11, 12, 14
CLIENT_KEY_EXCHANGE, FINISHED, CERTIFICATE_STATUS = 16, 20, 22
# Record content types (RFC 5246 6.2.1; 24 = heartbeat, RFC 6520)
CT_CCS, CT_ALERT, CT_HANDSHAKE, CT_APP, CT_HEARTBEAT = 20, 21, 22, 23, 24

# Extension numbers
EXT_SNI, EXT_STATUS, EXT_GROUPS, EXT_POINTS, EXT_SIGALGS = 0, 5, 10, 11, 13
EXT_HEARTBEAT, EXT_ALPN, EXT_EMS, EXT_TICKET = 15, 16, 23, 35
EXT_VERSIONS, EXT_PSK_MODES, EXT_KEY_SHARE, EXT_RENEG = 43, 45, 51, 0xFF01
X25519, SECP256R1, SECP384R1 = 29, 23, 24


def record(ctype, version, payload):
    """TLSPlaintext / TLSCiphertext (RFC 5246 6.2.1): type, version, length, fragment."""
    return u8(ctype) + u16(version) + vec16(payload)


def handshake(msg_type, body):
    """Handshake (RFC 5246 7.4): msg_type, uint24 length, body."""
    return u8(msg_type) + vec24(body)


def ext(ext_type, data):
    return u16(ext_type) + vec16(data)


def hello_random(rng, t_s=None):
    # struct { uint32 gmt_unix_time; opaque random_bytes[28]; } Random;
    # (default time: that of the connection being built, see Clock)
    return struct.pack("!I", Clock.now_s if t_s is None else t_s) + rand(rng, 28)


def rand(rng, n):
    return bytes(rng.randrange(256) for _ in range(n))


def sealed_len(suite, version, n):
    """Length of a record protecting n plaintext bytes under suite/version."""
    if suite.cipher == "gcm":
        return 8 + n + 16  # explicit nonce + ciphertext + tag (RFC 5288)
    if suite.cipher == "chacha":
        return n + 16  # RFC 7905: no explicit nonce
    if suite.cipher == "cbc":
        body = n + suite.mac + 1  # + padding_length byte
        body += -body % suite.block  # padding to the block size
        return body + (suite.block if version >= TLS11 else 0)  # explicit IV (RFC 4346)
    return n + suite.mac  # RC4, NULL: stream, MAC only


# ---------------------------------------------------------------------------
# ClientHello profiles


SIGALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0201]


def ext_sni(name):
    # ServerNameList: NameType host_name(0), HostName<1..2^16-1> (RFC 6066 3)
    return ext(EXT_SNI, vec16(u8(0) + vec16(name.encode())))


def client_hello(rng, version, suites, sni=None, *, sigalgs=None, groups=None, reneg=True,
                 ems=False, ticket=None, status=False, heartbeat=False, alpn=False,
                 tls13=False, compression=(0,), session_id=b"", extra_exts=()):
    """ClientHello (RFC 5246 7.4.1.2) and its client_random.

    struct {
        ProtocolVersion client_version;
        Random random;
        SessionID session_id<0..32>;
        CipherSuite cipher_suites<2..2^16-2>;
        CompressionMethod compression_methods<1..2^8-1>;
        Extension extensions<0..2^16-1>;   -- absent when empty
    } ClientHello;
    """
    crandom = hello_random(rng)
    exts = b""
    if sni:
        exts += ext_sni(sni)
    if ems:
        exts += ext(EXT_EMS, b"")
    if reneg:  # initial handshake: renegotiated_connection is empty
        exts += ext(EXT_RENEG, vec8(b""))
    if groups:
        exts += ext(EXT_GROUPS, vec16(b"".join(u16(g) for g in groups)))
        exts += ext(EXT_POINTS, vec8(b"\x00"))  # uncompressed
    if ticket is not None:
        exts += ext(EXT_TICKET, ticket)
    if alpn:
        exts += ext(EXT_ALPN, vec16(vec8(b"h2") + vec8(b"http/1.1")))
    if status:  # status_type ocsp(1), no responder ids, no extensions
        exts += ext(EXT_STATUS, b"\x01" + vec16(b"") + vec16(b""))
    if sigalgs:
        exts += ext(EXT_SIGALGS, vec16(b"".join(u16(a) for a in sigalgs)))
    if heartbeat:  # HeartbeatMode peer_allowed_to_send(1)
        exts += ext(EXT_HEARTBEAT, b"\x01")
    if tls13:  # a TLS 1.3 capable client (RFC 8446 4.2)
        exts += ext(EXT_KEY_SHARE, vec16(u16(X25519) + vec16(rand(rng, 32))))
        exts += ext(EXT_PSK_MODES, vec8(b"\x01"))  # psk_dhe_ke
        exts += ext(EXT_VERSIONS, vec8(u16(TLS13) + u16(TLS12)))
    for e in extra_exts:
        exts += e
    body = (u16(version) + crandom + vec8(session_id) +
            vec16(b"".join(u16(s) for s in suites)) + vec8(bytes(compression)))
    if exts:
        body += vec16(exts)
    return handshake(CLIENT_HELLO, body), crandom


def server_hello(rng, version, suite, exts=b"", session_id=None, compression=0, srandom=None):
    """ServerHello (RFC 5246 7.4.1.3): server_version, random, session_id,
    cipher_suite, compression_method, extensions<0..2^16-1> (absent if empty)."""
    srandom = srandom or hello_random(rng)
    if session_id is None:
        session_id = rand(rng, 32)
    body = u16(version) + srandom + vec8(session_id) + u16(suite) + u8(compression)
    if exts:
        body += vec16(exts)
    return handshake(SERVER_HELLO, body), srandom


def certificate(ders):
    # opaque ASN.1Cert<1..2^24-1>; ASN.1Cert certificate_list<0..2^24-1>;
    return handshake(CERTIFICATE, vec24(b"".join(vec24(d) for d in ders)))


# Client offers used below (most preferred first).
MODERN12 = [0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC009, 0xC013, 0xC00A, 0xC014,
            0x009C, 0x009D, 0x002F, 0x0035, 0x000A]
BROWSER13 = [0x1301, 0x1302, 0x1303] + MODERN12[:10] + [0x009E, 0x0033, 0x0039] + MODERN12[10:]
# Another browser: the same suites, 256-bit ones first.
BROWSER13_256 = [0x1302, 0x1301, 0x1303, 0xC02C, 0xC030, 0xC02B, 0xC02F] + MODERN12[4:10] + \
    [0x009E, 0x0033, 0x0039, 0x009D, 0x009C] + MODERN12[12:]
OLD_TLS10 = [0xC014, 0xC013, 0x0039, 0x0033, 0x0035, 0x002F, 0x0005, 0x0004, 0x000A]
SSL3_CLIENT = [0x0035, 0x002F, 0x0005, 0x0004, 0x000A, 0x0009]


def modern12_hello(rng, sni, suites=None, **kw):
    """A TLS 1.2 client (no TLS 1.3), e.g. a 2015-2018 library."""
    return client_hello(rng, TLS12, suites or MODERN12, sni, sigalgs=SIGALGS,
                        groups=[X25519, SECP256R1, SECP384R1], ems=True, **kw)


def browser_hello(rng, sni, suites=BROWSER13, **kw):
    """A browser offering TLS 1.3 and 1.2 (supported_versions, key_share)."""
    return client_hello(rng, TLS12, suites, sni, sigalgs=SIGALGS,
                        groups=[X25519, SECP256R1, SECP384R1], ems=True, ticket=b"",
                        alpn=True, status=True, tls13=True, **kw)


# ---------------------------------------------------------------------------
# One TLS (SSL 3.0 .. TLS 1.2) connection


class Server:
    """What a crafted server is: address, certificate chain and its key."""

    def __init__(self, ip, sni, chain, key_name=None, dh=None, export_key=None):
        self.ip, self.sni = ip, sni
        self.chain = [load_cert(c) for c in chain]
        self.key = load_key(key_name or chain[0]) if chain else None
        self.dh = load_dh(dh) if dh else None
        self.export_key = load_key(export_key) if export_key else None


class Clock:
    """Connection start times: each new connection a few seconds later."""

    now_s = EPOCH_START  # start (seconds) of the connection about to be built

    def __init__(self, rng, start):
        self.rng = rng
        self.pending = start * 1000000 + rng.randrange(1500000, 4000000)
        Clock.now_s = self.pending // 1000000

    def next(self):
        """Start time of the next connection (ClientHellos are built before)."""
        t = self.pending
        self.pending += self.rng.randrange(1500000, 4000000)
        Clock.now_s = self.pending // 1000000
        return t


def server_key_exchange(rng, srv, suite, version, crandom, srandom):
    """ServerKeyExchange (RFC 5246 7.4.3, RFC 4492 5.4, RFC 2246 7.4.3)."""
    if suite.kx == "DHE":
        p, g = srv.dh
        size = (p.bit_length() + 7) // 8
        ys = pow(g, rng.randrange(2, p - 2), p)
        # ServerDHParams: dh_p<1..2^16-1>, dh_g<1..2^16-1>, dh_Ys<1..2^16-1>
        params = (vec16(p.to_bytes(size, "big")) + vec16(g.to_bytes((g.bit_length() + 7) // 8, "big"))
                  + vec16(ys.to_bytes(size, "big")))
    elif suite.kx in ("ECDHE", "ECDH_anon"):
        # ServerECDHParams: ECParameters {curve_type named_curve(3), NamedCurve}, ECPoint
        params = u8(3) + u16(X25519) + vec8(rand(rng, 32))
    elif suite.kx == "RSA_EXPORT":
        # ServerRSAParams: rsa_modulus<1..2^16-1>, rsa_exponent<1..2^16-1> (the
        # temporary 512-bit key an export suite needs when the certificate key is
        # longer than 512 bits)
        k = srv.export_key
        params = vec16(k.n.to_bytes(k.size, "big")) + vec16(k.e.to_bytes(3, "big"))
    else:
        return None
    if suite.kx == "ECDH_anon":
        return handshake(SERVER_KEY_EXCHANGE, params)  # anonymous: no signature
    return handshake(SERVER_KEY_EXCHANGE,
                     params + sign_params(srv.key, version, crandom + srandom + params))


def client_key_exchange(rng, srv, suite, version):
    """ClientKeyExchange (RFC 5246 7.4.7, RFC 4492 5.7, RFC 6101 5.6.7)."""
    if suite.kx in ("RSA", "RSA_EXPORT"):
        # PreMasterSecret: client_version + 46 random bytes, RSA-encrypted
        key = srv.export_key if suite.kx == "RSA_EXPORT" else srv.key
        enc = key.encrypt(u16(version) + rand(rng, 46), rng)
        # SSL 3.0 sends the bare value; TLS prefixes it with a uint16 length
        return handshake(CLIENT_KEY_EXCHANGE, enc if version == SSL3 else vec16(enc))
    if suite.kx == "DHE":
        p, g = srv.dh
        yc = pow(g, rng.randrange(2, p - 2), p)
        return handshake(CLIENT_KEY_EXCHANGE, vec16(yc.to_bytes((p.bit_length() + 7) // 8, "big")))
    return handshake(CLIENT_KEY_EXCHANGE, vec8(rand(rng, 32)))  # ECPoint (X25519)


def sealed(rng, suite, version, ctype, n, plaintext=None):
    """A protected record of n plaintext bytes: random bytes of the right
    length, or for a NULL cipher the plaintext itself followed by a MAC."""
    if suite.cipher == "null":
        return record(ctype, version, (plaintext or rand(rng, n)) + rand(rng, suite.mac))
    return record(ctype, version, rand(rng, sealed_len(suite, version, n)))


def finished_len(version):
    # Finished: handshake header + verify_data (12 bytes; SSL 3.0: MD5 16 + SHA 20)
    return 4 + (36 if version == SSL3 else 12)


def connection(cap, rng, t_us, client_ip, client_port, srv, *, hello, version, suite,
               sh_exts=None, compression=0, status=None, ticket=None, session_id=None,
               request=None, response_len=None, after=None, record_version=None, sentinel=False):
    """A full handshake, a request, a response, close_notify both ways, FIN.

    hello: (ClientHello bytes, client_random).  sh_exts: ServerHello extension
    bytes (None: renegotiation_info, plus ec_point_formats for EC suites).
    after(tls, ctx): extra exchanges after the first request/response.
    sentinel: the server also speaks TLS 1.3, so the last 8 bytes of its
    random say DOWNGRD\x01 to a TLS 1.2 client (RFC 8446 4.1.3)."""
    s = SUITES[suite]
    tcp = Tcp(cap, rng, t_us, (client_ip, client_port), (srv.ip, 443))
    tcp.open()
    ch, crandom = hello
    # record-layer version of the ClientHello: 3.0 for an SSL 3.0 client, else
    # 3.1, as most TLS clients send (RFC 5246 E.1)
    rv = record_version or (SSL3 if ch[4:6] == u16(SSL3) else TLS10)
    tcp.send("c", record(CT_HANDSHAKE, rv, ch))

    if sh_exts is None:
        sh_exts = ext(EXT_RENEG, vec8(b""))
        if s.kx in ("ECDHE", "ECDH_anon"):
            sh_exts += ext(EXT_POINTS, vec8(b"\x00"))
    srandom = hello_random(rng, tcp.t // 1000000)
    if sentinel:
        srandom = srandom[:24] + DOWNGRD01
    sh, srandom = server_hello(rng, version, suite, sh_exts, session_id=session_id,
                               compression=compression, srandom=srandom)
    flight = [sh]
    if s.kx not in ("DH_anon", "ECDH_anon"):
        flight.append(certificate(srv.chain))
    if status is not None:  # CertificateStatus: status_type ocsp(1), OCSPResponse<1..2^24-1>
        flight.append(handshake(CERTIFICATE_STATUS, u8(1) + vec24(status)))
    ske = server_key_exchange(rng, srv, s, version, crandom, srandom)
    if ske:
        flight.append(ske)
    flight.append(handshake(SERVER_HELLO_DONE, b""))
    tcp.send("s", b"".join(record(CT_HANDSHAKE, version, m) for m in flight))

    ccs = record(CT_CCS, version, b"\x01")  # ChangeCipherSpec: type change_cipher_spec(1)
    fin_n = finished_len(version)
    tcp.send("c", record(CT_HANDSHAKE, version, client_key_exchange(rng, srv, s, version)) + ccs
             + sealed(rng, s, version, CT_HANDSHAKE, fin_n, finished_plain(rng, version)))
    server_fin = b""
    if ticket is not None:
        # NewSessionTicket (RFC 5077 3.3): ticket_lifetime_hint, ticket<0..2^16-1>
        server_fin += record(CT_HANDSHAKE, version,
                             handshake(NEW_SESSION_TICKET, struct.pack("!I", 7200) + vec16(ticket)))
    server_fin += ccs + sealed(rng, s, version, CT_HANDSHAKE, fin_n, finished_plain(rng, version))
    tcp.send("s", server_fin)
    tls = (tcp, rng, s, version)
    exchange(tls, srv.sni, request, response_len)
    if after:
        after(tls)
    close_notify(tls)
    return tcp.t


def finished_plain(rng, version):
    return handshake(FINISHED, rand(rng, finished_len(version) - 4))


def http_request(host):
    return ("GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: tlsgrade-sample\r\n"
            "Accept: */*\r\n\r\n" % (host or "localhost")).encode()


def http_response(n):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % n
    return head + b"x" * n


def exchange(tls, host, request=None, response_len=None):
    """An HTTP request and response as application_data records."""
    tcp, rng, s, version = tls
    req = request or http_request(host)
    resp = http_response(response_len or rng.randrange(200, 900))
    tcp.send("c", sealed(rng, s, version, CT_APP, len(req), req))
    tcp.send("s", sealed(rng, s, version, CT_APP, len(resp), resp))


def close_notify(tls):
    tcp, rng, s, version = tls
    alert = b"\x01\x00"  # warning(1), close_notify(0)
    tcp.send("c", sealed(rng, s, version, CT_ALERT, 2, alert))
    tcp.send("s", sealed(rng, s, version, CT_ALERT, 2, alert))
    tcp.close("c")


def refused(cap, rng, t_us, client_ip, client_port, srv, hello, version, description):
    """A ClientHello answered by a fatal alert (RFC 5246 7.2) and a close."""
    tcp = Tcp(cap, rng, t_us, (client_ip, client_port), (srv.ip, 443))
    tcp.open()
    ch, _ = hello
    tcp.send("c", record(CT_HANDSHAKE, TLS10, ch))
    tcp.send("s", record(CT_ALERT, version, u8(2) + u8(description)))  # fatal(2)
    tcp.close("s")
    return tcp.t


# ---------------------------------------------------------------------------
# SSL 2.0 (Hickman, "The SSL Protocol", 1995) - record header: 2 bytes, high
# bit set, 15-bit length (no padding); messages: MSG-CLIENT-HELLO(1),
# MSG-CLIENT-MASTER-KEY(2), MSG-CLIENT-FINISHED(3), MSG-SERVER-HELLO(4),
# MSG-SERVER-VERIFY(5), MSG-SERVER-FINISHED(6).

SSL2_RC4_128_WITH_MD5 = b"\x01\x00\x80"
SSL2_RC4_128_EXPORT40_WITH_MD5 = b"\x02\x00\x80"
SSL2_RC2_128_CBC_WITH_MD5 = b"\x03\x00\x80"
SSL2_DES_64_CBC_WITH_MD5 = b"\x06\x00\x40"
SSL2_DES_192_EDE3_CBC_WITH_MD5 = b"\x07\x00\xc0"


def ssl2_record(body):
    return u16(0x8000 | len(body)) + body


def ssl2_connection(cap, rng, t_us, client_ip, client_port, srv, client_version, specs):
    tcp = Tcp(cap, rng, t_us, (client_ip, client_port), (srv.ip, 443))
    tcp.open()
    challenge = rand(rng, 16)
    # CLIENT-HELLO: type, version, cipher-specs length, session-id length,
    # challenge length, cipher specs (3 bytes each), session id, challenge
    tcp.send("c", ssl2_record(u8(1) + u16(client_version) + u16(len(specs)) + u16(0)
                              + u16(len(challenge)) + specs + challenge))
    server_specs = (SSL2_RC4_128_WITH_MD5 + SSL2_DES_192_EDE3_CBC_WITH_MD5 +
                    SSL2_RC2_128_CBC_WITH_MD5 + SSL2_DES_64_CBC_WITH_MD5 +
                    SSL2_RC4_128_EXPORT40_WITH_MD5)
    cert = srv.chain[0]
    connection_id = rand(rng, 16)
    # SERVER-HELLO: type, session-id-hit 0, certificate type X.509 (1),
    # version 0x0002, certificate length, cipher-specs length, connection-id
    # length, certificate, cipher specs, connection id
    tcp.send("s", ssl2_record(u8(4) + u8(0) + u8(1) + u16(0x0002) + u16(len(cert))
                              + u16(len(server_specs)) + u16(len(connection_id)) + cert
                              + server_specs + connection_id))
    # CLIENT-MASTER-KEY: type, cipher kind, clear-key length 0, encrypted-key
    # length, key-arg length 0, the RSA-encrypted 16-byte master key
    enc = srv.key.encrypt(rand(rng, 16), rng)
    cmk = u8(2) + SSL2_RC4_128_WITH_MD5 + u16(0) + u16(len(enc)) + u16(0) + enc
    # then CLIENT-FINISHED (connection id), encrypted: MAC (MD5, 16) + data
    tcp.send("c", ssl2_record(cmk) + ssl2_record(rand(rng, 16 + 1 + len(connection_id))))
    # SERVER-VERIFY (challenge) and SERVER-FINISHED (session id), encrypted
    tcp.send("s", ssl2_record(rand(rng, 16 + 1 + len(challenge))) + ssl2_record(rand(rng, 16 + 1 + 16)))
    req = http_request(None)
    tcp.send("c", ssl2_record(rand(rng, 16 + len(req))))
    tcp.send("s", ssl2_record(rand(rng, 16 + rng.randrange(300, 900))))
    tcp.close("s")
    return tcp.t


# ---------------------------------------------------------------------------
# Building blocks for the scenarios


def ssl3_hello(rng, sni, suites=SSL3_CLIENT, fallback=False):
    """An SSL 3.0 ClientHello (RFC 6101 5.6.1.2): client_version 3.0, the
    renegotiation SCSV (RFC 5746 4.4), and SNI as its one extension (so the
    connection is attributed to the same (SNI, IP, port) as the TLS ones).
    fallback: a client retrying at 3.0 adds TLS_FALLBACK_SCSV (RFC 7507)."""
    offer = list(suites) + [SCSV_RENEG] + ([SCSV_FALLBACK] if fallback else [])
    return client_hello(rng, SSL3, offer, sni, reneg=False)


def legacy_hello(rng, version, suites, sni, **kw):
    """A TLS 1.0/1.1 (or minimal 1.2) client: SNI, renegotiation_info."""
    if version >= TLS12:
        kw.setdefault("sigalgs", SIGALGS)
    if any(SUITES[s].kx in ("ECDHE", "ECDH_anon") for s in suites if s in SUITES):
        kw.setdefault("groups", [X25519, SECP256R1])
    return client_hello(rng, version, suites, sni, **kw)


class Scenario:
    def __init__(self, path, seed_name, hour):
        self.cap = Pcap(path)
        self.rng = random.Random("tlsgrade-sample:" + seed_name)
        self.clock = Clock(self.rng, EPOCH_START + hour * 3600)
        self.port = 49152 + self.rng.randrange(0, 10000)

    def client_port(self):
        self.port += self.rng.randrange(1, 40)
        return self.port

    def conn(self, client_ip, srv, **kw):
        return connection(self.cap, self.rng, self.clock.next(), client_ip, self.client_port(), srv, **kw)

    def close(self):
        self.cap.close()


# ---------------------------------------------------------------------------
# The scenarios.  Each writes one pcap; the server table is in expected.json.

SCENARIOS = []


def scenario(name):
    def register(fn):
        SCENARIOS.append((name, fn))
        return fn
    return register


def net(n):
    """Addresses of crafted sample number n: server 10.1.n.1, clients 10.1.n.100+."""
    return "10.1.%d.1" % n, "10.1.%d.100" % n, "10.1.%d.101" % n


@scenario("sslv2.pcap")
def sslv2(sc):
    # An SSLv2-only server (no SNI in SSL 2.0) and, on another address, a TLS 1.2
    # server using the same certificate and RSA key (DROWN).
    srv = Server("10.1.1.1", None, ["sslv2"])
    tls = Server("10.1.1.2", "drown.example.test", ["sslv2"])
    r = sc.rng
    # 1: SSLv2-compatible hello (version 3.1, SSLv2 and TLS suites as 3-byte
    #    specs, RFC 5246 E.2), answered in SSL 2.0
    specs = (SSL2_RC4_128_WITH_MD5 + SSL2_DES_192_EDE3_CBC_WITH_MD5 + SSL2_RC2_128_CBC_WITH_MD5
             + b"\x00\x00\x2f" + b"\x00\x00\x35" + b"\x00\x00\x0a" + b"\x00\x00\x05"
             + SSL2_RC4_128_EXPORT40_WITH_MD5 + b"\x00\x00\xff")
    ssl2_connection(sc.cap, r, sc.clock.next(), "10.1.1.100", sc.client_port(), srv, TLS10, specs)
    # 2: a pure SSL 2.0 client (version 0.2), as a DROWN scanner sends
    specs = (SSL2_RC4_128_WITH_MD5 + SSL2_DES_192_EDE3_CBC_WITH_MD5 + SSL2_DES_64_CBC_WITH_MD5
             + SSL2_RC4_128_EXPORT40_WITH_MD5)
    ssl2_connection(sc.cap, r, sc.clock.next(), "10.1.1.101", sc.client_port(), srv, 0x0002, specs)
    # 3: TLS 1.2 to the other address, same key
    sc.conn("10.1.1.100", tls, hello=modern12_hello(r, tls.sni), version=TLS12, suite=0xC02F)


def tls12_and(sc, srv, client):
    """The usual good first connection: TLS 1.2, ECDHE-RSA-AES128-GCM."""
    sc.conn(client, srv, hello=modern12_hello(sc.rng, srv.sni), version=TLS12, suite=0xC02F)


@scenario("ssl3-poodle.pcap")
def ssl3_poodle(sc):
    ip, c1, c2 = net(2)
    srv = Server(ip, "ssl3cbc.example.test", ["ssl3cbc", "int"])
    tls12_and(sc, srv, c1)
    sc.conn(c2, srv, hello=ssl3_hello(sc.rng, srv.sni), version=SSL3, suite=0x002F)


@scenario("ssl3-rc4.pcap")
def ssl3_rc4(sc):
    ip, c1, c2 = net(3)
    srv = Server(ip, "ssl3rc4.example.test", ["ssl3rc4", "int"])
    tls12_and(sc, srv, c1)
    sc.conn(c2, srv, hello=ssl3_hello(sc.rng, srv.sni, suites=[0x0005, 0x0004]), version=SSL3,
            suite=0x0005)


@scenario("ssl3-only.pcap")
def ssl3_only(sc):
    ip, c1, c2 = net(4)
    srv = Server(ip, "ssl3only.example.test", ["ssl3only", "int"])
    # clients offering TLS 1.2 get SSL 3.0 (no downgrade sentinel)
    for c in (c1, c2):
        sc.conn(c, srv, hello=modern12_hello(sc.rng, srv.sni), version=SSL3, suite=0x002F,
                sh_exts=ext(EXT_RENEG, vec8(b"")))


@scenario("export-rsa.pcap")
def export_rsa(sc):
    ip, c1, c2 = net(5)
    srv = Server(ip, "export.example.test", ["export", "int"], export_key="export512")
    tls12_and(sc, srv, c1)
    # an old TLS 1.0 client offering export suites gets RSA_EXPORT_WITH_RC4_40_MD5,
    # with a ServerKeyExchange carrying a 512-bit RSA key (FREAK)
    offer = [0x0005, 0x0004, 0x0003, 0x0006, 0x0008]
    sc.conn(c2, srv, hello=legacy_hello(sc.rng, TLS10, offer, srv.sni), version=TLS10, suite=0x0003)


@scenario("rc4-tls12.pcap")
def rc4_tls12(sc):
    ip, c1, c2 = net(6)
    srv = Server(ip, "rc4.example.test", ["rc4", "int"])
    tls12_and(sc, srv, c1)
    sc.conn(c2, srv, hello=legacy_hello(sc.rng, TLS12, [0x0005, 0x0004], srv.sni), version=TLS12,
            suite=0x0005)


@scenario("rc4-only.pcap")
def rc4_only(sc):
    ip, c1, c2 = net(7)
    srv = Server(ip, "rc4only.example.test", ["rc4only", "int"])
    # both clients offer AES (GCM and CBC) and RC4, both get RC4-SHA
    sc.conn(c1, srv, hello=modern12_hello(sc.rng, srv.sni, MODERN12 + [0x0005, 0x0004]),
            version=TLS12, suite=0x0005)
    sc.conn(c2, srv, hello=legacy_hello(sc.rng, TLS12, [0x002F, 0x0035, 0x0004, 0x0005], srv.sni),
            version=TLS12, suite=0x0004)


@scenario("rc4-tls10.pcap")
def rc4_tls10(sc):
    ip, c1, c2 = net(8)
    srv = Server(ip, "rc4tls10.example.test", ["rc4tls10", "int"])
    tls12_and(sc, srv, c1)
    sc.conn(c2, srv, hello=legacy_hello(sc.rng, TLS10, [0x0005, 0x0004], srv.sni), version=TLS10,
            suite=0x0005)


@scenario("3des-tls12.pcap")
def des3_tls12(sc):
    ip, c1, c2 = net(9)
    srv = Server(ip, "3des.example.test", ["3des", "int"])
    tls12_and(sc, srv, c1)
    sc.conn(c2, srv, hello=legacy_hello(sc.rng, TLS12, [0xC012, 0x000A], srv.sni), version=TLS12,
            suite=0xC012)


def small_dh(sc, n, name, dh):
    ip, c1, c2 = net(n)
    srv = Server(ip, name + ".example.test", [name, "int"], dh=dh)
    tls12_and(sc, srv, c1)
    offer = [0x009E, 0x009F, 0x0033, 0x0039, 0x002F, 0x0035]
    sc.conn(c2, srv, hello=legacy_hello(sc.rng, TLS12, offer, srv.sni), version=TLS12, suite=0x009E)


@scenario("dhe-512.pcap")
def dhe_512(sc):
    small_dh(sc, 10, "dhe512", "dh512")


@scenario("dhe-768.pcap")
def dhe_768(sc):
    small_dh(sc, 11, "dhe768", "dh768")


@scenario("tls-compression.pcap")
def compression(sc):
    ip, c1, c2 = net(12)
    srv = Server(ip, "deflate.example.test", ["deflate", "int"])
    # the client offers DEFLATE(1) and null(0); the server chooses DEFLATE
    for c in (c1, c2):
        sc.conn(c, srv, hello=modern12_hello(sc.rng, srv.sni, compression=(1, 0)), version=TLS12,
                suite=0xC02F, compression=1)


def heartbeat_exts(suite_is_ec=True):
    e = ext(EXT_RENEG, vec8(b"")) + ext(EXT_HEARTBEAT, b"\x01")
    return e + (ext(EXT_POINTS, vec8(b"\x00")) if suite_is_ec else b"")


@scenario("heartbleed.pcap")
def heartbleed(sc):
    ip, c1, c2 = net(13)
    srv = Server(ip, "heartbleed.example.test", ["heartbleed", "int"])

    def normal_heartbeat(tls):
        # HeartbeatMessage (RFC 6520 4): type, payload_length, payload, >= 16
        # bytes padding; request and response have the same size
        tcp, rng, s, version = tls
        n = 1 + 2 + 16 + 16
        tcp.send("c", sealed(rng, s, version, CT_HEARTBEAT, n))
        tcp.send("s", sealed(rng, s, version, CT_HEARTBEAT, n))

    def bleed(tls):
        # request: heartbeat_request(1), payload_length 16384, no payload, 16
        # bytes padding = 19 bytes; the answer echoes 16384 bytes of memory:
        # 1 + 2 + 16384 + 16 = 16403 bytes
        tcp, rng, s, version = tls
        tcp.send("c", sealed(rng, s, version, CT_HEARTBEAT, 19))
        tcp.send("s", sealed(rng, s, version, CT_HEARTBEAT, 16403))

    sc.conn(c1, srv, hello=modern12_hello(sc.rng, srv.sni, heartbeat=True), version=TLS12,
            suite=0xC02F, sh_exts=heartbeat_exts(), after=normal_heartbeat)
    sc.conn(c2, srv, hello=modern12_hello(sc.rng, srv.sni, heartbeat=True), version=TLS12,
            suite=0xC02F, sh_exts=heartbeat_exts(), after=bleed)


NO_RENEG_EXTS = ext(EXT_POINTS, vec8(b"\x00"))  # ServerHello without renegotiation_info


@scenario("no-secure-reneg.pcap")
def no_secure_reneg(sc):
    ip, c1, c2 = net(14)
    srv = Server(ip, "noreneg.example.test", ["noreneg", "int"])
    for c in (c1, c2):
        sc.conn(c, srv, hello=modern12_hello(sc.rng, srv.sni), version=TLS12, suite=0xC02F,
                sh_exts=NO_RENEG_EXTS)


@scenario("reneg-insecure.pcap")
def reneg_insecure(sc):
    ip, c1, c2 = net(15)
    srv = Server(ip, "reneg.example.test", ["reneg", "int"])

    def renegotiate(tls):
        # Client-initiated renegotiation on the established connection: every
        # handshake message is now inside encrypted records (content type 22),
        # the new ChangeCipherSpecs are encrypted type-20 records.
        tcp, rng, s, version = tls
        ch, _ = modern12_hello(rng, srv.sni, reneg=False)
        tcp.send("c", sealed(rng, s, version, CT_HANDSHAKE, len(ch)))
        sizes = [len(server_hello(rng, TLS12, 0xC02F, NO_RENEG_EXTS)[0]),
                 len(certificate(srv.chain)), 4 + 4 + 32 + 4 + srv.key.size, 4]
        tcp.send("s", b"".join(sealed(rng, s, version, CT_HANDSHAKE, n) for n in sizes))
        tcp.send("c", sealed(rng, s, version, CT_HANDSHAKE, 4 + 33)
                 + sealed(rng, s, version, CT_CCS, 1) + sealed(rng, s, version, CT_HANDSHAKE, 16))
        tcp.send("s", sealed(rng, s, version, CT_CCS, 1) + sealed(rng, s, version, CT_HANDSHAKE, 16))
        exchange(tls, srv.sni)

    sc.conn(c1, srv, hello=modern12_hello(sc.rng, srv.sni), version=TLS12, suite=0xC02F,
            sh_exts=NO_RENEG_EXTS)
    sc.conn(c2, srv, hello=modern12_hello(sc.rng, srv.sni), version=TLS12, suite=0xC02F,
            sh_exts=NO_RENEG_EXTS, after=renegotiate)


@scenario("fallback-scsv-supported.pcap")
def scsv_supported(sc):
    ip, c1, c2 = net(16)
    srv = Server(ip, "scsv.example.test", ["scsv", "int"])
    tls12_and(sc, srv, c1)
    # a TLS 1.1 retry carrying TLS_FALLBACK_SCSV: alert inappropriate_fallback(86)
    offer = [0xC013, 0xC014, 0x002F, 0x0035, 0x000A, SCSV_FALLBACK]
    hello = legacy_hello(sc.rng, TLS11, offer, srv.sni)
    refused(sc.cap, sc.rng, sc.clock.next(), c2, sc.client_port(), srv, hello, TLS11, 86)


@scenario("fallback-scsv-ignored.pcap")
def scsv_ignored(sc):
    ip, c1, c2 = net(17)
    srv = Server(ip, "noscsv.example.test", ["noscsv", "int"])
    tls12_and(sc, srv, c1)
    # the same TLS 1.1 retry gets a TLS 1.1 ServerHello (SCSV not supported)
    offer = [0xC013, 0xC014, 0x002F, 0x0035, 0x000A, SCSV_FALLBACK]
    sc.conn(c2, srv, hello=legacy_hello(sc.rng, TLS11, offer, srv.sni), version=TLS11, suite=0xC013)


@scenario("anon-ecdh.pcap")
def anon(sc):
    ip, c1, c2 = net(18)
    srv = Server(ip, "anon.example.test", ["anon", "int"])
    tls12_and(sc, srv, c1)
    # a client offering only anonymous suites gets ECDH_anon: no Certificate,
    # an unsigned ServerKeyExchange
    sc.conn(c2, srv, hello=legacy_hello(sc.rng, TLS12, [0xC018, 0xC019, 0x0034], srv.sni),
            version=TLS12, suite=0xC018)


@scenario("null-cipher.pcap")
def null_cipher(sc):
    ip, c1, c2 = net(19)
    srv = Server(ip, "null.example.test", ["null", "int"])
    tls12_and(sc, srv, c1)
    # NULL encryption: Finished and the HTTP exchange travel in clear (+ MAC)
    sc.conn(c2, srv, hello=legacy_hello(sc.rng, TLS12, [0x003B, 0x0002, 0x0001], srv.sni),
            version=TLS12, suite=0x003B)


@scenario("tls10-best.pcap")
def tls10_best(sc):
    ip, c1, c2 = net(20)
    srv = Server(ip, "tls10best.example.test", ["tls10best", "int"])
    # clients offering TLS 1.2 get TLS 1.0, without a DOWNGRD sentinel
    for c in (c1, c2):
        sc.conn(c, srv, hello=modern12_hello(sc.rng, srv.sni), version=TLS10, suite=0xC013)


@scenario("ticketbleed.pcap")
def ticketbleed(sc):
    ip, c1, c2 = net(21)
    srv = Server(ip, "ticketbleed.example.test", ["ticketbleed", "int"])
    r = sc.rng
    ticket = rand(r, 160)
    sh_exts = ext(EXT_RENEG, vec8(b"")) + ext(EXT_POINTS, vec8(b"\x00")) + ext(EXT_TICKET, b"")
    sc.conn(c1, srv, hello=modern12_hello(r, srv.sni, ticket=b""), version=TLS12, suite=0xC02F,
            sh_exts=sh_exts, ticket=ticket)
    # Resumption with the ticket and a 1-byte session_id 0xAA: the server
    # echoes a 32-byte session_id that starts with 0xAA and continues with 31
    # bytes of its memory (CVE-2016-9244).  Abbreviated handshake (RFC 5077
    # 3.1): ServerHello, ChangeCipherSpec, Finished from the server first.
    s = SUITES[0xC02F]
    ch, _ = modern12_hello(r, srv.sni, ticket=ticket, session_id=b"\xaa")
    tcp = Tcp(sc.cap, r, sc.clock.next(), (c2, sc.client_port()), (srv.ip, 443))
    tcp.open()
    tcp.send("c", record(CT_HANDSHAKE, TLS10, ch))
    sh, _ = server_hello(r, TLS12, 0xC02F, ext(EXT_RENEG, vec8(b"")) + ext(EXT_POINTS, vec8(b"\x00")),
                         session_id=b"\xaa" + rand(r, 31), srandom=hello_random(r, tcp.t // 1000000))
    ccs = record(CT_CCS, TLS12, b"\x01")
    tcp.send("s", record(CT_HANDSHAKE, TLS12, sh) + ccs + sealed(r, s, TLS12, CT_HANDSHAKE, 16))
    tcp.send("c", ccs + sealed(r, s, TLS12, CT_HANDSHAKE, 16))
    tls = (tcp, r, s, TLS12)
    exchange(tls, srv.sni)
    close_notify(tls)


@scenario("demo-cloud-consoles.pcap")
def demo(sc):
    """Four cloud consoles, modelled on a public comparison of their HTTPS."""
    r = sc.rng
    alpha = Server("10.0.0.1", "console.alpha.example", ["alpha", "int-sha1"])
    bravo = Server("10.0.0.2", "console.bravo.example", ["bravo", "int"])
    charlie = Server("10.0.0.3", "console.charlie.example", ["charlie", "int"])
    delta = Server("10.0.0.4", "console.delta.example", ["delta", "int"], dh="dh1024",
                   export_key="export512")
    # Two browsers with different suite orders (a server gives one offer
    # one answer: the same offer answered twice differently would read as
    # a configuration change).
    browsers = ["10.0.0.100", "10.0.0.101"]
    for i, c in enumerate(browsers):
        suites = BROWSER13 if i != 1 else BROWSER13_256
        # (a) alpha: TLS 1.2 only, RSA key exchange for browsers offering
        #     ECDHE (and TLS 1.3); SHA-1 signed leaf and intermediate
        sc.conn(c, alpha, hello=browser_hello(r, alpha.sni, suites), version=TLS12,
                suite=0x009C if i != 1 else 0x009D)
        # (b) bravo: ECDHE-GCM under TLS 1.2 for browsers ...
        sc.conn(c, bravo, hello=browser_hello(r, bravo.sni, suites), version=TLS12,
                suite=0xC02F if i != 1 else 0xC030)
        # (c) charlie: EV certificate, ECDHE-GCM, TLS 1.2 only
        sc.conn(c, charlie, hello=browser_hello(r, charlie.sni, suites), version=TLS12,
                suite=0xC02F if i != 1 else 0xC030)
        # (d) delta: DHE with a 1024-bit group for browsers
        sc.conn(c, delta, hello=browser_hello(r, delta.sni, suites), version=TLS12, suite=0x009E)
    # (b) ... and SSL 3.0 with AES-CBC for an old client
    sc.conn("10.0.0.103", bravo, hello=ssl3_hello(r, bravo.sni), version=SSL3, suite=0x002F)
    # (d) a browser's fallback retry at SSL 3.0 with TLS_FALLBACK_SCSV gets a
    #     normal SSL 3.0 ServerHello (no fallback protection) ...
    sc.conn("10.0.0.101", delta, hello=ssl3_hello(r, delta.sni, fallback=True), version=SSL3,
            suite=0x002F)
    # ... and an old TLS 1.0 client offering export suites gets
    #     TLS_RSA_EXPORT_WITH_DES40_CBC_SHA with a 512-bit RSA ServerKeyExchange
    offer = [0x0005, 0x000A, 0x0008, 0x0006, 0x0003]
    sc.conn("10.0.0.104", delta, hello=legacy_hello(r, TLS10, offer, delta.sni), version=TLS10,
            suite=0x0008)


@scenario("distrust-symantec.pcap")
def distrust_symantec(sc):
    # Chains that verify to the sample root: through an intermediate named
    # like Symantec's "Class 3 Secure Server CA - G4" (distrusted_ca: T), and
    # through one of a company whose name merely contains "Symantec".
    ip, c1, _ = net(22)
    srv = Server(ip, "symantec.example.test", ["symantec", "int-symantec"])
    tls12_and(sc, srv, c1)
    other = Server("10.1.22.2", "notsymantec.example.test", ["notsymantec", "int-notsymantec"])
    tls12_and(sc, other, c1)


@scenario("distrust-entrust.pcap")
def distrust_entrust(sc):
    # Entrust-named intermediate; Chrome 131 distrusts leaves issued after
    # 2024-11-11: one leaf from 2024-11-01 (still trusted), one from 2025-01-01.
    ip, c1, _ = net(23)
    old = Server(ip, "entrust-old.example.test", ["entrust-old", "int-entrust"])
    tls12_and(sc, old, c1)
    new = Server("10.1.23.2", "entrust-new.example.test", ["entrust-new", "int-entrust"])
    tls12_and(sc, new, c1)


def main(argv):
    if argv[1:2] == ["--list"]:
        for name, _ in SCENARIOS:
            print(name)
        return 0
    out = argv[1] if len(argv) > 1 else HERE
    os.makedirs(out, exist_ok=True)
    for hour, (name, fn) in enumerate(SCENARIOS):
        sc = Scenario(os.path.join(out, name), name, hour)
        fn(sc)
        sc.close()
        print("wrote %s" % os.path.join(out, name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
