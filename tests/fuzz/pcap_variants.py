#!/usr/bin/env python3
"""Re-encapsulate one Ethernet/IPv4 capture into seed captures for fuzz_pcap
that reach what the corpus lacks: IPv4 fragments (out of order, with an
overlap), IPv6 with extension headers, IPv6 fragments, and the other link
types capture/decode.c reads (NULL, LOOP, RAW, LINUX_SLL, LINUX_SLL2, IPV4,
IPV6).

    pcap_variants.py IN.pcap OUT_DIR

IN must be a classic little-endian pcap of Ethernet frames.  Checksums are
recomputed for the new headers, so the packets are as valid as the input's.
"""
import os
import struct
import sys


def read_pcap(path):
    data = open(path, "rb").read()
    magic, _, _, _, _, _, linktype = struct.unpack("<IHHiIII", data[:24])
    if magic != 0xA1B2C3D4 or linktype != 1:
        raise SystemExit("pcap_variants: %s: need a little-endian Ethernet pcap" % path)
    off, frames = 24, []
    while off + 16 <= len(data):
        sec, usec, caplen, wirelen = struct.unpack("<IIII", data[off:off + 16])
        frames.append((sec, usec, data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return frames


def write_pcap(path, linktype, packets):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for sec, usec, pkt in packets:
            f.write(struct.pack("<IIII", sec, usec, len(pkt), len(pkt)) + pkt)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_packets(frames):
    """(sec, usec, IPv4 datagram) of the Ethernet/IPv4 frames."""
    out = []
    for sec, usec, frame in frames:
        if len(frame) >= 34 and frame[12:14] == b"\x08\x00":
            ip = frame[14:]
            total = struct.unpack("!H", ip[2:4])[0]
            out.append((sec, usec, ip[:total]))
    return out


def v4_header(ip, payload_len, frag_field):
    ihl = (ip[0] & 15) * 4
    hdr = bytearray(ip[:ihl])
    hdr[2:4] = struct.pack("!H", ihl + payload_len)
    hdr[6:8] = struct.pack("!H", frag_field)
    hdr[10:12] = b"\0\0"
    hdr[10:12] = struct.pack("!H", csum(bytes(hdr)))
    return bytes(hdr)


def v4_fragments(ip, ident):
    """Three fragments, last first, plus a duplicate of the middle one."""
    ihl = (ip[0] & 15) * 4
    payload = ip[ihl:]
    if len(payload) < 48:
        return [ip]
    a, b = 16, (len(payload) // 2) & ~7
    hdr = bytearray(ip[:ihl])
    hdr[4:6] = struct.pack("!H", ident)
    pieces = [(0, payload[:a], True), (a, payload[a:b], True), (b, payload[b:], False)]
    frags = [v4_header(hdr, len(p), (off // 8) | (0x2000 if more else 0)) + p
             for off, p, more in pieces]
    return [frags[2], frags[0], frags[1], frags[1]]


SRC6 = bytes.fromhex("fd000000000000000000000000000001")
DST6 = bytes.fromhex("fd000000000000000000000000000002")
HOME6 = bytes.fromhex("fd0000000000000000000000000000aa")


def v6_packet(ip, with_ext):
    """The IPv4 datagram's TCP/UDP payload over IPv6 (addresses mapped by
    direction), with hop-by-hop, routing type 2 (RFC 6275) and destination
    options headers when with_ext.  Returns (fixed header, ext, l4, proto)."""
    ihl = (ip[0] & 15) * 4
    proto, l4 = ip[9], bytearray(ip[ihl:])
    src, dst = (SRC6, DST6) if ip[12:16] < ip[16:20] else (DST6, SRC6)
    ext, nh = b"", proto
    final_dst = dst
    if with_ext:
        dest_opts = bytes([nh, 0, 1, 4, 0, 0, 0, 0])  # PadN
        routing = bytes([60, 2, 2, 1, 0, 0, 0, 0]) + HOME6  # type 2, segments left 1
        hop = bytes([43, 0, 1, 4, 0, 0, 0, 0])
        ext, nh = hop + routing + dest_opts, 0
        final_dst = HOME6
    if proto in (6, 17):
        ck = 16 if proto == 6 else 6
        l4[ck:ck + 2] = b"\0\0"
        if proto == 17:
            l4[4:6] = struct.pack("!H", len(l4))
        pseudo = src + final_dst + struct.pack("!IxxxB", len(l4), proto)
        l4[ck:ck + 2] = struct.pack("!H", csum(pseudo + bytes(l4)) or 0xFFFF)
    fixed = struct.pack("!IHBB", 0x60000000, len(ext) + len(l4), nh, 64) + src + dst
    return fixed, ext, bytes(l4)


def v6_fragments(fixed, ext, l4, ident):
    """The unfragmentable part, a fragment header, two fragments in reverse."""
    nh = fixed[6]
    payload = ext + l4
    if len(payload) < 32:
        return [fixed + payload]
    half = (len(payload) // 2) & ~7
    out = []
    for off, piece, more in ((half, payload[half:], False), (0, payload[:half], True)):
        frag = bytes([nh, 0]) + struct.pack("!HI", off | (1 if more else 0), ident)
        hdr = bytearray(fixed)
        hdr[4:6] = struct.pack("!H", len(frag) + len(piece))
        hdr[6] = 44
        out.append(bytes(hdr) + frag + piece)
    return out


def main():
    src, out = sys.argv[1], sys.argv[2]
    frames = read_pcap(src)
    packets = ipv4_packets(frames)
    name = os.path.splitext(os.path.basename(src))[0]
    eth = lambda et, p: b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01" + et + p

    frag = []
    for i, (sec, usec, ip) in enumerate(packets):
        frag += [(sec, usec, eth(b"\x08\x00", f)) for f in v4_fragments(ip, 0x4000 + i)]
    write_pcap(os.path.join(out, name + "-v4frag.pcap"), 1, frag)

    v6, v6frag = [], []
    for i, (sec, usec, ip) in enumerate(packets):
        fixed, ext, l4 = v6_packet(ip, True)
        v6.append((sec, usec, eth(b"\x86\xdd", fixed + ext + l4)))
        v6frag += [(sec, usec, eth(b"\x86\xdd", f)) for f in v6_fragments(fixed, ext, l4, i)]
    write_pcap(os.path.join(out, name + "-v6ext.pcap"), 1, v6)
    write_pcap(os.path.join(out, name + "-v6frag.pcap"), 1, v6frag)

    # Link types: (LINKTYPE_*, header for an IPv4 / IPv6 packet)
    links = {
        "null": (0, lambda v6: struct.pack("<I", 30 if v6 else 2)),
        "loop": (108, lambda v6: struct.pack(">I", 30 if v6 else 2)),
        "raw": (101, lambda v6: b""),
        "sll": (113, lambda v6: struct.pack(">HHH8sH", 0, 1, 6, b"\x02\0\0\0\0\x01\0\0",
                                            0x86DD if v6 else 0x0800)),
        "sll2": (276, lambda v6: struct.pack(">HHIHBB8s", 0x86DD if v6 else 0x0800, 0, 1, 1, 0,
                                             6, b"\x02\0\0\0\0\x01\0\0")),
        "ipv4": (228, None),
        "ipv6": (229, None),
    }
    for link, (linktype, header) in links.items():
        for as_v6 in (False, True):
            if (link == "ipv4" and as_v6) or (link == "ipv6" and not as_v6):
                continue
            pkts = []
            for sec, usec, ip in packets:
                body = b"".join(v6_packet(ip, False)) if as_v6 else ip
                pkts.append((sec, usec, (header(as_v6) if header else b"") + body))
            write_pcap(os.path.join(out, "%s-%s%d.pcap" % (name, link, 6 if as_v6 else 4)),
                       linktype, pkts)

if __name__ == "__main__":
    main()
