"""tests/e2e/pcapgen.py - a tiny writer of classic pcap files for tests:
Ethernet / IPv4 / TCP with correct checksums, a three-way handshake, data in
both directions, and hand-built TLS hellos.  Byte layouts follow RFC 791,
RFC 793 and RFC 5246 7.4.1; nothing here comes from tlsgrade."""
import struct


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def _ip(a):
    return bytes(int(x) for x in a.split("."))


def tcp_frame(src, sport, dst, dport, seq, ack, flags, payload=b"", window=65535, options=b"",
              bad_checksum=False):
    """options: raw TCP option bytes (padded to 4 here, RFC 793 3.1);
    bad_checksum: the TCP checksum is the right one plus one, so it never
    verifies (what a receiver drops, RFC 793 3.1)."""
    options += b"\0" * (-len(options) % 4)
    offset = (20 + len(options)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff, offset << 4,
                      flags, window, 0, 0) + options
    pseudo = _ip(src) + _ip(dst) + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
    csum = _csum(pseudo + tcp + payload)
    if bad_checksum:
        csum = (csum + 1) & 0xffff or 1
    tcp = tcp[:16] + struct.pack("!H", csum) + tcp[18:]
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, 0, 64, 6, 0, _ip(src), _ip(dst))
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
    return eth + ip + tcp + payload


def udp_frame(src, sport, dst, dport, payload):
    """Ethernet / IPv4 / UDP (RFC 768) with both checksums."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    pseudo = _ip(src) + _ip(dst) + struct.pack("!BBH", 0, 17, len(udp) + len(payload))
    udp = udp[:6] + struct.pack("!H", _csum(pseudo + udp + payload) or 0xffff)
    total = 20 + len(udp) + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, 0, 64, 17, 0, _ip(src), _ip(dst))
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
    return eth + ip + udp + payload


def set_seq(frame, seq):
    """Write a new sequence number into a tcp_frame() (a bytearray) and
    update its TCP checksum to match, incrementally (RFC 1624 eqn. 3:
    HC' = ~(~HC + ~m + m') for each changed 16-bit word)."""
    tcp = 14 + 20  # Ethernet, IPv4 without options
    old_words = struct.unpack_from("!HH", frame, tcp + 4)
    struct.pack_into("!I", frame, tcp + 4, seq & 0xffffffff)
    new_words = struct.unpack_from("!HH", frame, tcp + 4)
    s = ~struct.unpack_from("!H", frame, tcp + 16)[0] & 0xffff
    for m, m_new in zip(old_words, new_words):
        s += (~m & 0xffff) + m_new
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    struct.pack_into("!H", frame, tcp + 16, ~s & 0xffff)


def wscale_option(shift):
    """The window scale option (RFC 7323 2.2): kind 3, length 3, shift."""
    return bytes([1, 3, 3, shift])


class Conversation:
    """One TCP connection; frames are appended in order."""

    SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01

    def __init__(self, client, cport, server, sport, t0=1700000000.0):
        self.c, self.cp, self.s, self.sp = client, cport, server, sport
        self.cseq, self.sseq, self.t = 1000, 5000, t0
        self.frames = []

    def _add(self, frame):
        self.t += 0.001
        self.frames.append((self.t, frame))

    def handshake(self, wscale=None, bad_server_checksums=False, client_mss=None):
        """wscale: both SYNs carry the window scale option with this shift;
        bad_server_checksums: the server's SYN-ACK has a wrong checksum;
        client_mss: the client's SYN announces this maximum segment size."""
        opts = wscale_option(wscale) if wscale is not None else b""
        mss = struct.pack("!BBH", 2, 4, client_mss) if client_mss else b""  # RFC 9293 3.2
        self._add(tcp_frame(self.c, self.cp, self.s, self.sp, self.cseq, 0, self.SYN,
                            options=mss + opts))
        self._add(tcp_frame(self.s, self.sp, self.c, self.cp, self.sseq, self.cseq + 1,
                            self.SYN | self.ACK, options=opts,
                            bad_checksum=bad_server_checksums))
        self.cseq += 1
        self.sseq += 1
        self._add(tcp_frame(self.c, self.cp, self.s, self.sp, self.cseq, self.sseq, self.ACK))

    def server_rst(self, seq):
        """A RST|ACK from the server with a chosen sequence number."""
        self._add(tcp_frame(self.s, self.sp, self.c, self.cp, seq, self.cseq,
                            0x04 | self.ACK))

    def server_forges(self, data, bad_checksum=True):
        """Server-side bytes at the next sequence number that do not advance
        it: the real bytes sent next take the same sequence numbers."""
        self._add(tcp_frame(self.s, self.sp, self.c, self.cp, self.sseq, self.cseq,
                            self.ACK | self.PSH, data, bad_checksum=bad_checksum))

    def client_sends(self, data):
        self._add(tcp_frame(self.c, self.cp, self.s, self.sp, self.cseq, self.sseq,
                            self.ACK | self.PSH, data))
        self.cseq += len(data)

    def server_sends(self, data, bad_checksum=False):
        self._add(tcp_frame(self.s, self.sp, self.c, self.cp, self.sseq, self.cseq,
                            self.ACK | self.PSH, data, bad_checksum=bad_checksum))
        self.sseq += len(data)


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        for t, frame in sorted(frames, key=lambda x: x[0]):
            sec, usec = int(t), int(round((t - int(t)) * 1e6))
            f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)


def _vec(n, body):
    return len(body).to_bytes(n, "big") + body


def record(content_type, body, version=0x0303):
    return struct.pack("!BHH", content_type, version, len(body)) + body


def handshake(msg_type, body):
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


def _u16s(values):
    return b"".join(struct.pack("!H", v) for v in values)


def extension(ext_type, body):
    """One extension (RFC 8446 4.2): type, then body<0..2^16-1>."""
    return struct.pack("!H", ext_type) + _vec(2, body)


def ech_outer(kdf_id, aead_id, config_id, enc, payload):
    """An outer encrypted_client_hello extension (0xfe0d, RFC 9849 5): type
    outer (0), HpkeSymmetricCipherSuite, config_id, enc<0..2^16-1>,
    payload<1..2^16-1>."""
    return extension(0xfe0d, b"\x00" + struct.pack("!HHB", kdf_id, aead_id, config_id) +
                     _vec(2, enc) + _vec(2, payload))


def client_hello(sni=None, alpn=(), ciphers=(0xc02f,), version=0x0303, groups=None,
                 versions=None, key_shares=None, sig_algs=None, extra_exts=b""):
    """A ClientHello (RFC 5246 7.4.1.2); the optional lists add
    supported_groups (10, RFC 8422 5.1.1), signature_algorithms (13, RFC
    8446 4.2.3), supported_versions (43, RFC 8446 4.2.1) and key_share (51,
    RFC 8446 4.2.8: a 32-byte share per group), in that order, then
    extra_exts (whole extensions, e.g. ech_outer())."""
    exts = b""
    if sni is not None:
        entry = b"\x00" + _vec(2, sni)
        exts += struct.pack("!H", 0) + _vec(2, _vec(2, entry))
    if alpn:
        names = b"".join(_vec(1, a) for a in alpn)
        exts += struct.pack("!H", 16) + _vec(2, _vec(2, names))
    if groups is not None:
        exts += struct.pack("!H", 10) + _vec(2, _vec(2, _u16s(groups)))
    if sig_algs is not None:
        exts += struct.pack("!H", 13) + _vec(2, _vec(2, _u16s(sig_algs)))
    if versions is not None:
        exts += struct.pack("!H", 43) + _vec(2, _vec(1, _u16s(versions)))
    if key_shares is not None:
        shares = b"".join(struct.pack("!H", g) + _vec(2, bytes(32)) for g in key_shares)
        exts += struct.pack("!H", 51) + _vec(2, _vec(2, shares))
    exts += struct.pack("!H", 0xff01) + _vec(2, b"\x00") + extra_exts
    body = (struct.pack("!H", version) + bytes(32) + b"\x00" +
            _vec(2, _u16s(ciphers)) + b"\x01\x00" +
            _vec(2, exts))
    return record(0x16, handshake(1, body), 0x0301)


# RFC 8446 4.1.3: the ServerHello.random of a HelloRetryRequest,
# SHA-256("HelloRetryRequest").
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def server_hello(cipher=0xc02f, version=0x0303, selected_version=None, key_share=None,
                 hello_retry=False, extra_exts=b""):
    """A ServerHello; with selected_version, a TLS 1.3 one (RFC 8446 4.1.3:
    legacy version 0x0303, supported_versions and key_share extensions).
    hello_retry: a HelloRetryRequest (its random, key_share the bare
    selected group, RFC 8446 4.2.8).  extra_exts: whole extensions added."""
    if selected_version is None:
        exts = struct.pack("!H", 0xff01) + _vec(2, b"\x00")
    else:
        exts = struct.pack("!H", 43) + _vec(2, struct.pack("!H", selected_version))
        if key_share is not None and hello_retry:
            exts += struct.pack("!H", 51) + _vec(2, struct.pack("!H", key_share))
        elif key_share is not None:
            exts += struct.pack("!H", 51) + _vec(2, struct.pack("!H", key_share) +
                                                 _vec(2, bytes(32)))
    random = HRR_RANDOM if hello_retry else bytes(range(32))
    body = (struct.pack("!H", version) + random + b"\x00" + struct.pack("!H", cipher) +
            b"\x00" + _vec(2, exts + extra_exts))
    return record(0x16, handshake(2, body))


def server_key_exchange_ecdhe(group):
    """A TLS 1.2 ECDHE ServerKeyExchange (RFC 8422 5.4): named_curve (3),
    the group, an uncompressed point of 65 bytes, and an rsa_pkcs1_sha256
    (0x0401) signature of 256 bytes (not checked by a passive reader)."""
    params = b"\x03" + struct.pack("!H", group) + _vec(1, b"\x04" + bytes(64))
    body = params + struct.pack("!H", 0x0401) + _vec(2, bytes(256))
    return record(0x16, handshake(12, body))


def certificate(ders):
    """A TLS 1.2 Certificate record (RFC 5246 7.4.2) carrying DER certs."""
    body = _vec(3, b"".join(_vec(3, d) for d in ders))
    return record(0x16, handshake(11, body))


def server_hello_done():
    return record(0x16, handshake(14, b""))


def _hkdf_expand_label(secret, label, length):
    """TLS 1.3 HKDF-Expand-Label with SHA-256 and an empty context (RFC 8446
    7.1, RFC 5869 2.3)."""
    import hashlib
    import hmac
    info = struct.pack("!H", length) + _vec(1, b"tls13 " + label) + _vec(1, b"")
    out, block = b"", b""
    for i in range(1, -(-length // 32) + 1):
        block = hmac.new(secret, block + info + bytes([i]), hashlib.sha256).digest()
        out += block
    return out[:length]


QUIC_V1_SALT = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")  # RFC 9001 5.2


def quic_initial_keys(dcid, server=False):
    """(key, iv, hp) of a QUIC version 1 Initial (RFC 9001 5.2)."""
    import hashlib
    import hmac
    initial = hmac.new(QUIC_V1_SALT, dcid, hashlib.sha256).digest()  # HKDF-Extract
    side = _hkdf_expand_label(initial, b"server in" if server else b"client in", 32)
    return (_hkdf_expand_label(side, b"quic key", 16), _hkdf_expand_label(side, b"quic iv", 12),
            _hkdf_expand_label(side, b"quic hp", 16))


def quic_crypto_frame(offset, data):
    """A CRYPTO frame (RFC 9000 19.6) with 4-byte varints (RFC 9000 16)."""
    return b"\x06" + struct.pack("!I", 0x80000000 | offset) + struct.pack(
        "!I", 0x80000000 | len(data)) + data


def quic_initial(dcid, pn, frames, server=False):
    """A protected QUIC version 1 Initial packet (RFC 9000 17.2.2, RFC 9001
    5.3 and 5.4): the given DCID, empty SCID and token, a 4-byte packet
    number."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    key, iv, hp = quic_initial_keys(dcid, server)
    length = 4 + len(frames) + 16
    header = (b"\xc3" + struct.pack("!I", 1) + _vec(1, dcid) + b"\x00" + b"\x00" +
              struct.pack("!I", 0x80000000 | length) + struct.pack("!I", pn))
    nonce = (int.from_bytes(iv, "big") ^ pn).to_bytes(12, "big")
    sealed = AESGCM(key).encrypt(nonce, frames, header)
    sample = sealed[:16]  # at pn_offset + 4: the packet number is 4 bytes
    mask = Cipher(algorithms.AES(hp), modes.ECB()).encryptor().update(sample)
    first = bytes([header[0] ^ (mask[0] & 0x0f)])
    pn_bytes = bytes(a ^ b for a, b in zip(header[-4:], mask[1:5]))
    return first + header[1:-4] + pn_bytes + sealed


def dtls_handshake_fragment(msg_type, msg_len, frag_offset, data, message_seq=0, record_seq=0):
    """A DTLS 1.2 record (RFC 6347 4.1) carrying one handshake fragment
    (4.2.2)."""
    body = (bytes([msg_type]) + msg_len.to_bytes(3, "big") + struct.pack("!H", message_seq) +
            frag_offset.to_bytes(3, "big") + len(data).to_bytes(3, "big") + data)
    return struct.pack("!BHH", 22, 0xfefd, 0) + record_seq.to_bytes(6, "big") + _vec(2, body)
