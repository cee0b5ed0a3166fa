"""tests/e2e/tunnelgen.py - wrap every frame of a classic Ethernet pcap in a
tunnel, the way mirror sessions and carrier networks deliver packets.

Each header is laid out from its specification, nothing from tlsgrade:
VXLAN RFC 7348 5, GENEVE RFC 8926 3.4, GRE RFC 2784 2 / RFC 2890 2, ERSPAN
draft-foschiano-erspan-03 (types II and III), MPLS RFC 3032 2.1 (with the
pseudowire control word of RFC 4385 3), PPPoE RFC 2516 4 (PPP protocol
numbers RFC 1332 / RFC 5072), GTP-U 3GPP TS 29.281 5.1 and 5.2; the outer
IPv4, IPv6 and UDP headers RFC 791, RFC 8200, RFC 768 (checksums summed
here).  tshark, reading the result, says whether the wrapping is right.

Usage as a module: wrap(in_path, out_path, layers) with layers a list of
(kind, options) from outermost to innermost, e.g.
[("erspan2", {}), ("vxlan", {"vni": 7})]."""
import struct

from pcapgen import _csum, _ip

ETH_IPV4, ETH_IPV6, ETH_TEB = 0x0800, 0x86DD, 0x6558
MAC_A, MAC_B = b"\x02\x00\x00\x00\xaa\x01", b"\x02\x00\x00\x00\xaa\x02"


def read_pcap(path):
    """[(ts_sec, ts_usec, frame)] of a classic little- or big-endian pcap of
    Ethernet frames (link type 1)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    assert linktype == 1, "Ethernet captures only"
    out, off = [], 24
    while off + 16 <= len(data):
        sec, usec, incl, _orig = struct.unpack(endian + "IIII", data[off:off + 16])
        out.append((sec, usec, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return out


def write_pcap(path, records):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        for sec, usec, frame in records:
            f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)


def eth(ethertype, payload, dst=MAC_B, src=MAC_A):
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload):
    total = 20 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, proto, 0, _ip(src), _ip(dst))
    return hdr[:10] + struct.pack("!H", _csum(hdr)) + hdr[12:] + payload


def _ip6(text):
    import socket
    return socket.inet_pton(socket.AF_INET6, text)


def ipv6(src, dst, next_header, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), next_header, 64, _ip6(src),
                       _ip6(dst)) + payload


def udp(src, dst, sport, dport, payload, checksum=True):
    """UDP over IPv4 (src, dst dotted) or IPv6 (with ':'); an IPv4 checksum
    may be left 0 (RFC 768), as VXLAN senders do (RFC 7348 5)."""
    length = 8 + len(payload)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    if not checksum:
        return hdr + payload
    if ":" in src:
        pseudo = _ip6(src) + _ip6(dst) + struct.pack("!IxxxB", length, 17)
    else:
        pseudo = _ip(src) + _ip(dst) + struct.pack("!BBH", 0, 17, length)
    csum = _csum(pseudo + hdr + payload) or 0xffff
    return hdr[:6] + struct.pack("!H", csum) + payload


def outer_udp(inner_frame, dport, payload, opts):
    """The outer Ethernet/IP/UDP of a UDP tunnel.  The outer source differs
    by the inner frame's direction (two mirror sources), and so does the
    source port (RFC 7348 5: a hash of the inner headers)."""
    forward = inner_frame[6:12] < inner_frame[0:6]
    sport = 49152 + (sum(inner_frame[26:38]) & 0x3fff)
    if opts.get("outer6"):
        src = "2001:db8:99::1" if forward else "2001:db8:99::3"
        return eth(ETH_IPV6, ipv6(src, "2001:db8:99::2", 17, udp(src, "2001:db8:99::2", sport,
                                                                   dport, payload)))
    src = "10.99.0.1" if forward else "10.99.0.3"
    dgram = udp(src, "10.99.0.2", sport, dport, payload, checksum=opts.get("checksum", False))
    return eth(ETH_IPV4, ipv4(src, "10.99.0.2", 17, dgram))


def outer_gre(gre_payload):
    return eth(ETH_IPV4, ipv4("10.98.0.1", "10.98.0.2", 47, gre_payload))


def strip_eth(frame):
    """The IP packet and its Ethernet type of an untagged Ethernet frame."""
    return struct.unpack("!H", frame[12:14])[0], frame[14:]


def vxlan(frame, opts):
    hdr = struct.pack("!B3s3sB", 0x08, b"\0\0\0", opts.get("vni", 42).to_bytes(3, "big"), 0)
    return outer_udp(frame, opts.get("port", 4789), hdr + frame, opts)


def geneve(frame, opts):
    """With one 8-byte option (class 0x0103, type 0x01: not critical, RFC
    8926 3.5), Ethernet inside; ip=True: the IP packet inside, protocol
    type its Ethernet type."""
    option = struct.pack("!HBB", 0x0103, 0x01, 1) + b"\xde\xad\xbe\xef"
    protocol, inner = ETH_TEB, frame
    if opts.get("ip"):
        protocol, inner = strip_eth(frame)
    hdr = struct.pack("!BBH3sB", len(option) // 4, 0, protocol,
                      opts.get("vni", 42).to_bytes(3, "big"), 0) + option
    return outer_udp(frame, 6081, hdr + inner, opts)


def gre_header(protocol, key=None, seq=None, checksum_over=None):
    flags = (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
    if checksum_over is not None:
        flags |= 0x8000
    hdr = struct.pack("!HH", flags, protocol)
    opt = b""
    if key is not None:
        opt += struct.pack("!I", key)
    if seq is not None:
        opt += struct.pack("!I", seq)
    if checksum_over is None:
        return hdr + opt
    # RFC 2784 2.5: the checksum covers the GRE header and the payload.
    csum = _csum(hdr + b"\0\0\0\0" + opt + checksum_over)
    return hdr + struct.pack("!HH", csum, 0) + opt


def gre(frame, opts):
    """Transparent Ethernet bridging with a key and a checksum; ip=True: the
    IP packet, protocol type its Ethernet type, no checksum."""
    if opts.get("ip"):
        protocol, inner = strip_eth(frame)
        return outer_gre(gre_header(protocol, key=opts.get("key")) + inner)
    hdr = gre_header(ETH_TEB, key=opts.get("key", 5), checksum_over=frame)
    return outer_gre(hdr + frame)


def erspan2(frame, opts, _seq=[0]):
    _seq[0] += 1
    # Ver 1, VLAN 0; COS 0, En 0, T 0, session 0x155; reserved, index 0.
    hdr = struct.pack("!HHI", 0x1000, 0x0155, 0)
    return outer_gre(gre_header(0x88BE, seq=_seq[0]) + hdr + frame)


def erspan3(frame, opts, _seq=[0]):
    """Frame type 0 (Ethernet), the O bit and its 8-byte platform-specific
    subheader (platform id 3 here: a timestamp)."""
    _seq[0] += 1
    hdr = struct.pack("!HHIHH", 0x2000, 0x0155, 0x01020304, 0, 0x0001)
    platform = struct.pack("!II", 3 << 26, 0x05060708)
    return outer_gre(gre_header(0x22EB, seq=_seq[0]) + hdr + platform + frame)


def mpls_label(label, bottom, ttl=64):
    return struct.pack("!I", label << 12 | (1 << 8 if bottom else 0) | ttl)


def mpls(frame, opts):
    """Two labels then the IP packet; pw=True: one label, the control word
    (first nibble 0, sequence number 0) and the whole Ethernet frame;
    pw="nocw": the Ethernet frame without a control word."""
    if opts.get("pw") == "nocw":
        return eth(0x8847, mpls_label(1000, True) + frame)
    if opts.get("pw"):
        return eth(0x8847, mpls_label(1000, True) + b"\0\0\0\0" + frame)
    _protocol, inner = strip_eth(frame)
    return eth(0x8847, mpls_label(16004, False) + mpls_label(17, True) + inner)


def pppoe(frame, opts):
    protocol, inner = strip_eth(frame)
    ppp = struct.pack("!H", 0x0021 if protocol == ETH_IPV4 else 0x0057) + inner
    return eth(0x8864, struct.pack("!BBHH", 0x11, 0x00, 0x1234, len(ppp)) + ppp)


def gtpu(frame, opts):
    """A G-PDU with E and S: sequence number, N-PDU number, then one PDU
    session container extension header (type 0x85, 1 word) that ends the
    chain."""
    _protocol, inner = strip_eth(frame)
    ext = struct.pack("!BBBB", 1, 0x00, 0x09, 0x00)  # length 1 word, content, next type 0
    optional = struct.pack("!HBB", 7, 0, 0x85)
    body = optional + ext + inner
    hdr = struct.pack("!BBHI", 0x30 | 0x04 | 0x02, 255, len(body), 0x11223344)
    return outer_udp(frame, 2152, hdr + body, opts)


KINDS = {"vxlan": vxlan, "geneve": geneve, "gre": gre, "erspan2": erspan2, "erspan3": erspan3,
         "mpls": mpls, "pppoe": pppoe, "gtpu": gtpu}


def wrap_frame(frame, layers):
    for kind, opts in reversed(layers):
        frame = KINDS[kind](frame, opts)
    return frame


def wrap(in_path, out_path, layers):
    write_pcap(out_path, [(s, u, wrap_frame(f, layers)) for s, u, f in read_pcap(in_path)])


def wrap_many(in_path, out_path, layer_sets):
    """Every frame once per layer set, in the same order and at the same
    time: overlapping tenants."""
    records = []
    for s, u, f in read_pcap(in_path):
        for layers in layer_sets:
            records.append((s, u, wrap_frame(f, layers)))
    write_pcap(out_path, records)
