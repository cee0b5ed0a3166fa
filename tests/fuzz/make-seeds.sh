#!/bin/sh
# tests/fuzz/make-seeds.sh - build the fuzz targets' seed corpora under
# build/fuzz/seeds/TARGET/ (not committed) from the corpus captures.
#
#   tests/fuzz/make-seeds.sh [OUT_DIR]      (default build/fuzz/seeds)
#
# Needs tshark and python3.  CORPUS (default /work/shared/corpus/pcaps)
# names the capture directory; samples/*.pcap are used as well.
#   pcap        every capture file as it is, and three of them re-encapsulated
#               (tests/fuzz/pcap_variants.py: fragments, IPv6, link types);
#               a sample in each tunnel (tests/e2e/tunnelgen.py)
#   tls_stream  per TCP/UDP stream, its payloads in capture order (TCP:
#               ordered by tshark's relative sequence numbers, each byte
#               once), in fuzz_tls_stream's segment format
#   handshake   handshake messages (ClientHello, ServerHello, Certificate,
#               ServerKeyExchange, CertificateStatus, CertificateRequest,
#               NewSessionTicket) walked out of those
#               TCP streams, with the suite and version their ServerHello
#               chose; the hellos of tests/data/hello/; the certificates of
#               tests/data/x509/ as Certificate messages
#   quic        the datagrams of tests/data/quic/*.udp, and built Initial
#               packets carrying the corpus ClientHellos / ServerHellos in
#               CRYPTO frames (in order and out of order)
#   x509        tests/data/x509/*.der and the corpus certificates
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/build/fuzz/seeds}
corpus=${CORPUS:-/work/shared/corpus/pcaps}
command -v tshark >/dev/null || { echo "make-seeds: tshark is not installed" >&2; exit 1; }
command -v python3 >/dev/null || { echo "make-seeds: python3 is not installed" >&2; exit 1; }
mkdir -p "$out/pcap" "$out/tls_stream" "$out/handshake" "$out/quic" "$out/x509"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "$top"/samples/*.pcap "$corpus"/*; do
  [ -f "$f" ] || continue
  name=$(basename "$f")
  cp "$f" "$out/pcap/$name"
  tshark -r "$f" -Y tcp -T fields -e tcp.stream -e tcp.srcport -e tcp.dstport -e tcp.seq \
    -e tcp.payload 2>/dev/null >"$tmp/$name.tcp" || true
  tshark -r "$f" -Y 'udp && !dns' -T fields -e udp.stream -e udp.srcport -e udp.dstport \
    -e udp.payload 2>/dev/null >"$tmp/$name.udp" || true
done

# IPv4/IPv6 fragments, IPv6 extension headers, the other link types
for f in zeek__dhe.pcap zeek__dtls1_0.pcap arkime__quicietfooo.pcap; do
  [ -f "$corpus/$f" ] && python3 "$top/tests/fuzz/pcap_variants.py" "$corpus/$f" "$out/pcap"
done

# a sample in each tunnel (tests/e2e/tunnelgen.py), and ERSPAN around VXLAN
python3 - "$top/samples/rc4-tls12.pcap" "$out/pcap" "$top/tests/e2e" <<'EOF'
import os, sys
sys.path.insert(0, sys.argv[3])
import tunnelgen
for kind in tunnelgen.KINDS:
    tunnelgen.wrap(sys.argv[1], os.path.join(sys.argv[2], "tunnel-%s.pcap" % kind), [(kind, {})])
tunnelgen.wrap(sys.argv[1], os.path.join(sys.argv[2], "tunnel-nested.pcap"),
               [("erspan2", {}), ("vxlan", {"vni": 7})])
EOF

python3 - "$tmp" "$out" "$top" <<'EOF'
import glob, hashlib, os, struct, sys

tmp, out, top = sys.argv[1:4]
PORTS = [443, 25, 587, 143, 110, 21, 119, 4190, 5432, 389, 5222, 8443, 4433, 993, 853, 0]
MAX_SEED = 64 * 1024
TLS_VERSIONS = {0x0300: 0, 0x0301: 1, 0x0302: 2, 0x0303: 3}

def save(target, data):
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)

def rows(path):
    for line in open(path):
        cols = line.rstrip("\n").split("\t")
        if len(cols) == 5 and cols[0]:
            yield cols

def port_index(port):
    return PORTS.index(port) if port in PORTS else 0

def segments(seq):
    """[(dir, bytes)] -> fuzz_tls_stream segment encoding."""
    b = bytearray()
    for d, data in seq:
        for i in range(0, len(data), 0xffff):
            chunk = data[i:i + 0xffff]
            b += bytes([d]) + struct.pack(">H", len(chunk)) + chunk
        if len(b) > MAX_SEED:
            break
    return bytes(b[:MAX_SEED])

def tcp_streams(path):
    """stream -> (server_port, [(dir, bytes)] in capture order, each byte once)."""
    streams = {}
    for sid, sport, dport, seq, payload in rows(path):
        st = streams.setdefault(sid, {"client": int(sport), "server": int(dport),
                                      "next": [None, None], "held": [{}, {}], "segs": []})
        if not payload or not seq:
            continue
        d = 0 if int(sport) == st["client"] else 1
        data = bytes.fromhex(payload.replace(":", ""))
        seq = int(seq)
        if st["next"][d] is None:
            st["next"][d] = seq
        st["held"][d][seq] = data
        # deliver what became contiguous
        progress = True
        while progress:
            progress = False
            for s in sorted(st["held"][d]):
                seg = st["held"][d][s]
                nxt = st["next"][d]
                if s <= nxt < s + len(seg):
                    st["segs"].append((d, seg[nxt - s:]))
                    st["next"][d] = s + len(seg)
                    del st["held"][d][s]
                    progress = True
                    break
                if s + len(seg) <= nxt:
                    del st["held"][d][s]
                    progress = True
                    break
    return streams

def udp_streams(path):
    streams = {}
    for line in open(path):
        cols = line.rstrip("\n").split("\t")
        if len(cols) != 4 or not cols[0]:
            continue
        sid, sport, dport, payload = cols
        st = streams.setdefault(sid, {"client": int(sport), "server": int(dport), "segs": []})
        if payload:
            d = 0 if int(sport) == st["client"] else 1
            st["segs"].append((d, bytes.fromhex(payload.replace(":", ""))))
    return streams

def handshake_messages(data):
    """Plaintext handshake messages of one direction's TLS records."""
    hs, off = bytearray(), 0
    while off + 5 <= len(data):
        ctype, ver, n = data[off], data[off + 1:off + 3], struct.unpack(">H", data[off + 3:off + 5])[0]
        if ctype < 20 or ctype > 24 or ver[0] != 3:
            break
        if ctype == 20:
            break  # ChangeCipherSpec: the rest is protected
        if ctype == 22:
            hs += data[off + 5:off + 5 + n]
        off += 5 + n
    msgs, off = [], 0
    while off + 4 <= len(hs):
        t, n = hs[off], int.from_bytes(hs[off + 1:off + 4], "big")
        if off + 4 + n > len(hs):
            break
        msgs.append((t, bytes(hs[off + 4:off + 4 + n])))
        off += 4 + n
    return msgs

def hs_seed(sel, body, version=0x0303, suite=0xc02f, options=0):
    return bytes([sel, TLS_VERSIONS.get(version, 3) | options]) + struct.pack(">H", suite) + body

def varint(v):
    if v < 64:
        return bytes([v])
    if v < 16384:
        return struct.pack(">H", 0x4000 | v)
    return struct.pack(">I", 0x80000000 | v)

def crypto_frame(off, data):
    return b"\x06" + varint(off) + varint(len(data)) + data

def quic_built(d, frames, dcid=b"\x83\x94\xc8\xf0\x3e\x51\x57\x08", version=0):
    desc = bytes([version, len(dcid)]) + dcid + b"\x00\x00" + struct.pack(">H", len(frames)) + frames
    return bytes([d | 2]) + struct.pack(">H", len(desc)) + desc

certs, hellos = [], []
for path in sorted(glob.glob(os.path.join(tmp, "*.tcp"))):
    for sid, st in tcp_streams(path).items():
        if not st["segs"]:
            continue
        save("tls_stream", bytes([port_index(st["server"]) << 3, 0]) + segments(st["segs"]))
        per_dir = [b"".join(s for d, s in st["segs"] if d == k) for k in (0, 1)]
        # STARTTLS: the records start after the plaintext
        for k in (0, 1):
            i = per_dir[k].find(b"\x16\x03")
            per_dir[k] = per_dir[k][i:] if i >= 0 else b""
        msgs = [(0, t, b) for t, b in handshake_messages(per_dir[0])]
        msgs += [(1, t, b) for t, b in handshake_messages(per_dir[1])]
        version, suite = 0x0303, 0xc02f
        for d, t, body in msgs:
            if d == 1 and t == 2 and len(body) >= 38:
                version = struct.unpack(">H", body[:2])[0]
                sid_len = body[34]
                if len(body) >= 35 + sid_len + 2:
                    suite = struct.unpack(">H", body[35 + sid_len:37 + sid_len])[0]
        for d, t, body in msgs:
            if t == 1 and d == 0:
                save("handshake", hs_seed(0, body))
                hellos.append((0, bytes([1]) + len(body).to_bytes(3, "big") + body))
            elif t == 2 and d == 1:
                save("handshake", hs_seed(1, body))
                save("handshake", hs_seed(7, body, version, suite))
                hellos.append((1, bytes([2]) + len(body).to_bytes(3, "big") + body))
            elif t == 11:
                save("handshake", hs_seed(2, body[:MAX_SEED], version, suite, 0x10 if d == 0 else 0))
                lst, off = body[3:], 0
                while off + 3 <= len(lst):
                    n = int.from_bytes(lst[off:off + 3], "big")
                    certs.append(lst[off + 3:off + 3 + n])
                    off += 3 + n
            elif t == 12 and d == 1:
                save("handshake", hs_seed(3, body, version, suite))
            elif t == 22 and d == 1:
                save("handshake", hs_seed(4, body, version, suite))
            elif t == 13 and d == 1:
                save("handshake", hs_seed(4, body, version, suite, 0x40))
            elif t == 4 and d == 1:
                save("handshake", hs_seed(4, body, version, suite, 0x80))
for path in sorted(glob.glob(os.path.join(tmp, "*.udp"))):
    for sid, st in udp_streams(path).items():
        if st["segs"]:
            save("tls_stream", bytes([1 | port_index(st["server"]) << 3, 0]) + segments(st["segs"]))

for path in sorted(glob.glob(os.path.join(top, "tests/data/hello/*.hex"))):
    name = os.path.basename(path)
    body = bytes.fromhex("".join(l.strip() for l in open(path) if not l.startswith("#")))
    dtls = 8 if name.startswith("dtls") else 0
    if name.startswith("sslv2"):
        save("handshake", hs_seed(5 if ".ch" in name else 6, body))
    elif ".ch" in name:
        save("handshake", hs_seed(0 | dtls, body))
    else:
        save("handshake", hs_seed(1 | dtls, body))

for path in sorted(glob.glob(os.path.join(top, "tests/data/x509/*.der"))):
    certs.append(open(path, "rb").read())
seen = set()
for der in certs:
    if der and der not in seen:
        seen.add(der)
        save("x509", der)
        lst = len(der).to_bytes(3, "big") + der
        save("handshake", hs_seed(2, len(lst).to_bytes(3, "big") + lst))

for path in sorted(glob.glob(os.path.join(top, "tests/data/quic/*.udp"))):
    b = bytearray()
    for line in open(path):
        parts = line.split()
        if len(parts) == 3:
            dg = bytes.fromhex(parts[2])
            b += bytes([int(parts[1])]) + struct.pack(">H", len(dg)) + dg
    save("quic", bytes(b))
for d, msg in hellos[:40]:
    msg = msg[:12000]
    save("quic", quic_built(d, crypto_frame(0, msg)))
    half = len(msg) // 2
    two = quic_built(d, crypto_frame(half, msg[half:])) + quic_built(d, crypto_frame(0, msg[:half]))
    save("quic", (quic_built(0, b"\x01") if d else b"") + two)
for k in range(len(hellos) - 1):
    if hellos[k][0] == 0 and hellos[k + 1][0] == 1:
        ch, sh = hellos[k][1][:8000], hellos[k + 1][1][:8000]
        save("quic", quic_built(0, crypto_frame(0, ch)) + quic_built(1, b"\x02\x00\x00\x00\x00" +
                                                                     crypto_frame(0, sh),
                                                                     dcid=b"\x01\x02"))
for target in ("pcap", "tls_stream", "handshake", "quic", "x509"):
    print("make-seeds: %-10s %d seeds" % (target, len(os.listdir(os.path.join(out, target)))))
EOF
