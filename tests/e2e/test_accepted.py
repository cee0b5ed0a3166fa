"""Only what the endpoints accepted is graded.

Crafted captures (pcapgen: TLS hellos by hand, RFC 793/7323 TCP headers):
- a forged SSLv3/RC4 ServerHello with a wrong TCP checksum, just before the
  real TLS 1.2 one at the same sequence number: the client drops it
  (RFC 793 3.1), so the real one is graded and cited.  tshark's checksum
  verdict (tcp.check_checksum) says which frame is bad;
- the same forgery with a good checksum: kept (first copy), but the real
  copy, wholly behind the delivered data, is compared and counted as an
  overlap conflict;
- checksum offload: every server packet, SYN-ACK included, with a wrong
  checksum: nothing to tell good from bad, so the server's bytes are kept;
- receive offload: one bad-checksum segment longer than the client's MSS
  (RFC 9293 3.7.1) could not have crossed the wire as such: kept;
- a RST a billion bytes outside the client's window between ClientHello and
  ServerHello: receivers drop it (RFC 5961 3.2), so the flow goes on;
- a RST 1 000 000 bytes ahead: outside an unscaled 65535-byte window, but
  inside it when both SYNs scale it by 2^7 (RFC 7323 2.2): accepted only
  then, and a RST exactly at the next sequence number always is."""
import json
import os
import shutil
import subprocess
import tempfile

from oracle import Suite, run_tlsgrade
from pcapgen import Conversation, client_hello, server_hello, write_pcap

TMP = tempfile.mkdtemp(prefix="tlsgrade-accepted-")
SSL3, RC4_SHA = 0x0300, 0x0005  # RFC 6101; TLS_RSA_WITH_RC4_128_SHA (RFC 5246 A.5)
ECDHE_GCM = 0xc02f  # TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (RFC 5289)


def capture(name, build):
    conv = Conversation("10.5.0.100", 40001, "10.5.0.1", 443)
    build(conv)
    path = os.path.join(TMP, name + ".pcap")
    write_pcap(path, conv.frames)
    return path


def handshakes(t, path):
    rc, out, err = run_tlsgrade(["--handshakes", path])
    t.eq(rc, 0, "exit status: " + err)
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def flows(t, path):
    rc, out, err = run_tlsgrade(["--flows", path])
    t.eq(rc, 0, "exit status: " + err)
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [x for x in lines if "client" in x], [x["stats"] for x in lines if "stats" in x][0]


def tshark_bad_checksums(path):
    """Frame numbers tshark finds a bad TCP checksum in (None: no tshark)."""
    if not shutil.which("tshark"):
        return None
    out = subprocess.run(["tshark", "-r", path, "-o", "tcp.check_checksum:TRUE", "-T", "fields",
                          "-e", "frame.number", "-e", "tcp.checksum.status"],
                         capture_output=True, text=True, check=True).stdout
    # tcp.checksum.status: 0 bad, 1 good, 2 unverified
    return [int(n) for n, status in (line.split("\t") for line in out.splitlines())
            if status == "0"]


def forged_bad_checksum(t):
    def build(conv):
        conv.handshake()
        conv.client_sends(client_hello(sni=b"forged.example", ciphers=(ECDHE_GCM, RC4_SHA)))
        conv.server_forges(server_hello(cipher=RC4_SHA, version=SSL3))  # frame 5
        conv.server_sends(server_hello(cipher=ECDHE_GCM))  # frame 6
    path = capture("forged", build)
    bad = tshark_bad_checksums(path)
    if bad is not None:
        t.eq(bad, [5], "tshark: only the forged frame has a bad checksum")
    hs = handshakes(t, path)
    t.eq(len(hs), 1, "one handshake")
    if hs:
        t.eq(hs[0].get("cipher_id"), ECDHE_GCM, "the real ServerHello's suite is graded")
        t.eq(hs[0].get("version"), "TLSv1.2", "the real ServerHello's version")
        t.eq(hs[0].get("frames", {}).get("server_hello"), 6, "the real frame is cited")
    fl, _ = flows(t, path)
    t.eq([f["stream_bytes"]["s2c"] for f in fl], [len(server_hello(cipher=ECDHE_GCM))],
         "the server's stream holds the real hello once")


def forged_good_checksum(t):
    """The same forgery with a good checksum: nothing tells the copies
    apart, the first is kept, but the disagreement is counted."""
    def build(conv):
        conv.handshake()
        conv.client_sends(client_hello(sni=b"conflict.example", ciphers=(ECDHE_GCM, RC4_SHA)))
        conv.server_forges(server_hello(cipher=RC4_SHA, version=SSL3), bad_checksum=False)
        conv.server_sends(server_hello(cipher=ECDHE_GCM))
    path = capture("conflict", build)
    fl, _ = flows(t, path)
    t.eq([(f["retransmits"]["s2c"], f["overlap_conflicts"]["s2c"]) for f in fl], [(1, 1)],
         "a copy wholly behind the delivered data, with other bytes, is a conflict")


def offload(t):
    def build(conv):
        conv.handshake(bad_server_checksums=True)  # frame 2
        conv.client_sends(client_hello(sni=b"offload.example"))
        conv.server_sends(server_hello(cipher=ECDHE_GCM), bad_checksum=True)  # frame 5
    path = capture("offload", build)
    bad = tshark_bad_checksums(path)
    if bad is not None:
        t.eq(bad, [2, 5], "tshark: every server packet has a bad checksum")
    hs = handshakes(t, path)
    t.eq([h.get("frames", {}).get("server_hello") for h in hs], [5],
         "offload: the server's packets are kept, its hello graded")


def loopback_ack(t):
    """Loopback (or offload): every segment has a partial, wrong checksum
    but for one pure ACK the kernel wrote whole.  That ACK proves nothing
    about the data segments: they are kept, the hellos read."""
    from pcapgen import tcp_frame
    c, s = ("10.5.0.100", 40002), ("10.5.0.1", 443)
    ch, sh = client_hello(sni=b"lo.example"), server_hello(cipher=ECDHE_GCM)
    steps = [(c, s, 1000, 0, 0x02, b"", True), (s, c, 5000, 1001, 0x12, b"", True),
             (c, s, 1001, 5001, 0x10, b"", False),  # the pure ACK, checksum good
             (c, s, 1001, 5001, 0x18, ch, True),
             (s, c, 5001, 1001 + len(ch), 0x18, sh, True)]
    frames = [(1700000000 + i / 1000, tcp_frame(a[0], a[1], b[0], b[1], seq, ack, fl, data,
                                                 bad_checksum=bad))
              for i, (a, b, seq, ack, fl, data, bad) in enumerate(steps)]
    path = os.path.join(TMP, "loopback.pcap")
    write_pcap(path, frames)
    bad = tshark_bad_checksums(path)
    if bad is not None:
        t.eq(bad, [1, 2, 4, 5], "tshark: all but the pure ACK have bad checksums")
    hs = handshakes(t, path)
    t.eq([h.get("frames") for h in hs], [{"client_hello": 4, "server_hello": 5}],
         "the ClientHello after the good ACK is kept")


def offload_sized(t):
    """A bad checksum on a segment longer than the client's MSS: the capture
    host glued segments together (receive offload), so it is kept."""
    tail = b"\x17\x03\x03" + (2000).to_bytes(2, "big") + bytes(2000)  # a 2000-byte record
    for mss in (1460, None):  # None: no MSS seen, the datagram is over 1500 bytes
        def build(conv):
            conv.handshake(client_mss=mss)
            conv.client_sends(client_hello(sni=b"glued.example"))
            conv.server_sends(server_hello(cipher=ECDHE_GCM) + tail, bad_checksum=True)  # 5
        path = capture("glued", build)
        bad = tshark_bad_checksums(path)
        if bad is not None:
            t.eq(bad, [5], "tshark: the glued segment has a bad checksum")
        hs = handshakes(t, path)
        t.eq([h.get("frames", {}).get("server_hello") for h in hs], [5],
             "MSS %r: the glued segment is kept" % mss)
        fl, _ = flows(t, path)
        t.eq([f["stream_bytes"]["s2c"] for f in fl], [len(server_hello(cipher=ECDHE_GCM) + tail)],
             "MSS %r: all of its bytes are delivered" % mss)


def rst_case(name, offset, wscale):
    """ClientHello, a server RST at the next sequence number + offset, then
    the real ServerHello."""
    def build(conv):
        conv.handshake(wscale=wscale)
        conv.client_sends(client_hello(sni=name.encode() + b".example"))
        conv.server_rst(conv.sseq + offset)  # frame 5
        conv.server_sends(server_hello(cipher=ECDHE_GCM))  # frame 6
    return capture(name, build)


def rst_out_of_window(t):
    path = rst_case("rst-far", 1000000000, None)
    hs = handshakes(t, path)
    t.eq([h.get("frames", {}).get("server_hello") for h in hs], [6],
         "a RST far outside the window does not hide the ServerHello")
    fl, _ = flows(t, path)
    t.eq([f["end"] for f in fl], ["end_of_input"], "the flow was not closed by the RST")


def rst_window_scale(t):
    # 65535 << 7 = 8388480 > 1000000 > 65535
    path = rst_case("rst-unscaled", 1000000, None)
    t.eq([h.get("frames", {}).get("server_hello") for h in handshakes(t, path)], [6],
         "without window scaling, 1 000 000 bytes ahead is outside a 65535-byte window")
    path = rst_case("rst-scaled", 1000000, 7)
    t.eq([h.get("frames", {}).get("server_hello") for h in handshakes(t, path)], [None],
         "with both SYNs scaling by 2^7, it is inside: the connection ended before the hello")
    path = rst_case("rst-exact", 0, None)
    t.eq([h.get("frames", {}).get("server_hello") for h in handshakes(t, path)], [None],
         "a RST at exactly the next sequence number ends the connection")


def compare_cap_counted(t):
    """The bytes kept to compare copies are capped for all streams together
    (--limit compare-bytes), and every segment delivered without them is a
    counted cap hit: with the cap at 0, each segment carrying payload, as
    tshark counts them (tcp.len > 0)."""
    sample = os.path.join(os.path.dirname(__file__), "..", "..", "samples", "a-grade.pcap")
    def cap_hits(extra):
        rc, out, err = run_tlsgrade(["--format", "json"] + extra + [sample])
        t.eq(rc, 0, "exit status: " + err)
        report = json.loads(out)
        return (report["stats"]["cap_hits"]["tcp_compare_bytes_all_streams"],
                report["limits"]["tcp_compare_bytes_all_streams"])
    t.eq(cap_hits([]), (0, {"limit": 64 * 1024 * 1024, "hits": 0}), "default: 64 MiB, not hit")
    if shutil.which("tshark"):
        out = subprocess.run(["tshark", "-r", sample, "-Y", "tcp.len > 0"],
                             capture_output=True, text=True, check=True).stdout
        segments = len(out.splitlines())
        t.check(segments > 0, "tshark sees payload")
        t.eq(cap_hits(["--limit", "compare-bytes=0"]),
             (segments, {"limit": 0, "hits": segments}), "every payload segment without a ring")


def main():
    t = Suite()
    t.run(forged_bad_checksum)
    t.run(forged_good_checksum)
    t.run(offload)
    t.run(offload_sized)
    t.run(loopback_ack)
    t.run(rst_out_of_window)
    t.run(rst_window_scale)
    t.run(compare_cap_counted)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
