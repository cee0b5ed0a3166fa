"""DTLS multiplexed with STUN and RTP on one 5-tuple, as every WebRTC call
carries it (RFC 7983), and relayed in TURN ChannelData (RFC 8656 12.4)
(issue 15).  The DTLS datagrams are those of the corpus capture
zeek__dtls1_0.pcap (read with tshark); around them the test puts STUN
Binding requests and responses (RFC 8489 5, 6: magic cookie 0x2112A442)
before and between, and RTP packets (RFC 3550 5.1: version 2, first byte
0x80) interleaved.  tshark is the oracle that each built capture still
holds the DTLS handshake; tlsgrade must find the handshake it finds in the
plain capture: version, suite, certificate."""
import json
import os
import struct
import subprocess
import tempfile

from oracle import CORPUS, Suite, run_tlsgrade
from pcapgen import udp_frame, write_pcap

PLAIN = os.path.join(CORPUS, "pcaps", "zeek__dtls1_0.pcap")
TMP = tempfile.mkdtemp(prefix="tlsgrade-webrtc-")
CLIENT, SERVER = ("10.0.0.1", 50000), ("10.0.0.2", 50002)


def dtls_datagrams():
    """(from_client, payload) of every UDP datagram of the plain capture."""
    out = subprocess.run(["tshark", "-r", PLAIN, "-T", "fields", "-e", "udp.srcport", "-e",
                          "udp.payload"], capture_output=True, text=True, check=True).stdout
    rows = [line.split("\t") for line in out.splitlines() if "\t" in line]
    client_port = rows[0][0]
    return [(port == client_port, bytes.fromhex(hexdata)) for port, hexdata in rows]


def stun(request, n):
    """A Binding request (0x0001) or success response (0x0101) with no
    attributes, transaction id n."""
    return struct.pack("!HHI", 0x0001 if request else 0x0101, 0, 0x2112A442) + n.to_bytes(12, "big")


def rtp(seq):
    """An RTP packet: V=2 (0x80), payload type 111, seq, timestamp, SSRC,
    20 bytes of payload."""
    return struct.pack("!BBHII", 0x80, 111, seq, seq * 960, 0x11223344) + bytes(20)


def channel_data(payload):
    """TURN ChannelData on channel 0x4000, padded to 4 bytes (RFC 8656 12.5)."""
    return struct.pack("!HH", 0x4000, len(payload)) + payload + bytes(-len(payload) % 4)


def build(name, wrap, stun_from_client=True):
    frames, t = [], 1700000000.0

    def send(from_client, payload):
        nonlocal t
        t += 0.001
        src, dst = (CLIENT, SERVER) if from_client else (SERVER, CLIENT)
        frames.append((t, udp_frame(src[0], src[1], dst[0], dst[1], payload)))

    send(stun_from_client, stun(True, 1))  # whoever starts ICE: the flow's first packet
    send(not stun_from_client, stun(False, 1))
    for i, (from_client, payload) in enumerate(dtls_datagrams()):
        send(from_client, wrap(payload))
        send(not from_client, rtp(i))  # media of the other side, meanwhile
        if i == 3:
            send(True, stun(True, 2))  # a consent-freshness check (RFC 7675)
            send(False, stun(False, 2))
    path = os.path.join(TMP, name)
    write_pcap(path, frames)
    return path


def tshark_handshakes(pcap, extra=()):
    args = ["tshark", "-r", pcap, "-T", "fields", "-e", "dtls.handshake.type"] + list(extra)
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return [x for line in out.splitlines() for x in line.split(",") if x]


def handshakes(pcap):
    rc, out, err = run_tlsgrade(["--handshakes", pcap])
    return rc, [json.loads(x) for x in out.splitlines()], err


KEYS = ("version", "cipher", "cipher_id")


def same_handshake(t, name, wrap, tshark_args=(), stun_from_client=True):
    pcap = build(name, wrap, stun_from_client)
    t.eq(tshark_handshakes(pcap, tshark_args), tshark_handshakes(PLAIN),
         "tshark finds the plain capture's DTLS handshake messages in the built one")
    rc, plain, err = handshakes(PLAIN)
    t.eq(rc, 0, "plain exit status: " + err)
    rc, built, err = handshakes(pcap)
    t.eq(rc, 0, "exit status: " + err)
    t.eq(len(built), 1, "one DTLS connection")
    if not built or not plain:
        return
    t.eq({k: built[0].get(k) for k in KEYS}, {k: plain[0].get(k) for k in KEYS},
         "version and suite as in the plain capture")
    t.eq([c.get("sha256") for c in built[0].get("cert_chain", [])],
         [c.get("sha256") for c in plain[0].get("cert_chain", [])], "the same certificate chain")
    t.eq(built[0].get("client"), "%s:%d" % CLIENT, "the DTLS client")
    t.eq(built[0].get("webrtc"), True, "marked as demultiplexed")


def stun_alone(t):
    """STUN and RTP without DTLS: no handshake, no crash."""
    frames = [(1700000000.0 + i / 100, udp_frame(CLIENT[0], CLIENT[1], SERVER[0], SERVER[1],
                                                 stun(True, i) if i % 10 == 0 else rtp(i)))
              for i in range(200)]
    pcap = os.path.join(TMP, "stun-only.pcap")
    write_pcap(pcap, frames)
    rc, built, err = handshakes(pcap)
    t.eq((rc, built), (0, []), "no handshake: " + err)


def main():
    t = Suite()
    t.run(same_handshake, "webrtc.pcap", lambda p: p)
    t.run(same_handshake, "turn.pcap", channel_data,
          ("-d", "udp.port==%d,stun" % SERVER[1], "--enable-heuristic", "dtls_stun"))
    # The DTLS server sends the first STUN: the roles come from the DTLS.
    t.run(same_handshake, "webrtc-server-first.pcap", lambda p: p, (), False)
    t.run(stun_alone)
    t.done()


main()
