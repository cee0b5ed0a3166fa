"""Post-quantum key exchange (check pq_kex) and Encrypted Client Hello
(check ech, --handshakes "ech").

Crafted captures (pcapgen.py), one server per capture, and real ones of
the shared corpus: Chrome's X25519MLKEM768 accepted by Google
(arkime__tls-split-client-hello.pcap), passed over for x25519 by
www.gravatar.com over QUIC (suricata__quic-retry.pcap), ECH to
cloudflare-ech.com (zeek__tls13-ech.pcap).  Expected values come from the
RFCs and drafts and from tshark, never from tlsgrade:
- IANA TLS Supported Groups: X25519MLKEM768 0x11EC, SecP256r1MLKEM768
  0x11EB, SecP384r1MLKEM1024 0x11ED, MLKEM512..1024 0x0200..0x0202;
  X25519Kyber768Draft00 0x6399 "(OBSOLETE)".
- RFC 8446 4.1.4, 4.2.8: a server picks a group among the client's key
  shares, or asks for one of its supported_groups by HelloRetryRequest.
- RFC 9849 5: the outer ECHClientHello is type 0, kdf_id, aead_id,
  config_id, enc<0..2^16-1>, payload<1..2^16-1>; 7.2.1: a HelloRetryRequest
  of a server that accepted ECH carries an 8-byte confirmation.
The evidence frame of each verdict is the frame tshark shows carrying the
ServerHello key share (tls.handshake.extensions_key_share_group), the
ClientHello's extension 65037, or the HelloRetryRequest's."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from oracle import TOP, Suite, run_tlsgrade
from pcapgen import Conversation, client_hello, ech_outer, extension, record, server_hello, \
    write_pcap

TMP = tempfile.mkdtemp(prefix="tlsgrade-pq-")
CORPUS = os.path.join(TOP, "..", "shared", "corpus", "pcaps")
SAMPLES = os.path.join(TOP, "samples")
T0 = 1768435200.0
SERVER = "10.9.9.9"
X25519, P256 = 0x001d, 0x0017
X25519MLKEM768, P256MLKEM768, KYBER_DRAFT = 0x11ec, 0x11eb, 0x6399
AES128_GCM_13 = 0x1301


def hello13(conv, sni, groups, shares, answer, hrr=None, shares2=None, ech=b"", hrr_ech=False,
            client_alert=None, hrr_no_group=False):
    """A TLS 1.3 exchange: ClientHello (supported_groups, key shares, an
    optional ECH extension), an optional HelloRetryRequest for group hrr
    (with an ECH confirmation when hrr_ech; hrr_no_group: one without
    key_share) and second ClientHello with shares2, then the ServerHello
    with a share in group answer."""
    conv.client_sends(client_hello(sni=sni.encode(), ciphers=(AES128_GCM_13,), groups=groups,
                                   versions=(0x0304,), key_shares=shares, extra_exts=ech))
    if hrr is not None or hrr_no_group:
        confirmation = extension(0xfe0d, bytes(range(8))) if hrr_ech else b""
        conv.server_sends(server_hello(cipher=AES128_GCM_13, selected_version=0x0304,
                                       key_share=hrr, hello_retry=True,
                                       extra_exts=confirmation))
        conv.client_sends(client_hello(sni=sni.encode(), ciphers=(AES128_GCM_13,),
                                       groups=groups, versions=(0x0304,), key_shares=shares2,
                                       extra_exts=ech))
    conv.server_sends(server_hello(cipher=AES128_GCM_13, selected_version=0x0304,
                                   key_share=answer))
    if client_alert is not None:
        conv.client_sends(record(0x15, bytes([2, client_alert])))


def capture(name, exchanges):
    """exchanges: keyword arguments of hello13, one connection each."""
    frames = []
    for i, kw in enumerate(exchanges):
        conv = Conversation("10.9.9.100", 40000 + i, SERVER, 443, T0 + i)
        conv.handshake()
        hello13(conv, **kw)
        frames += conv.frames
    path = os.path.join(TMP, name + ".pcap")
    write_pcap(path, frames)
    return path


def grade(path):
    rc, out, err = run_tlsgrade(["--format", "json", path])
    if rc != 0:
        raise RuntimeError("tlsgrade failed: " + err)
    return json.loads(out)


def handshakes(path):
    rc, out, err = run_tlsgrade(["--handshakes", path])
    if rc != 0:
        raise RuntimeError("tlsgrade --handshakes failed: " + err)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def check_of(doc, host, check_id):
    for s in doc.get("servers", []):
        if s.get("host") == host:
            for c in s.get("checks", []):
                if c.get("id") == check_id:
                    return c
    return {}


def evidence_frames(check):
    """{fact: frame} of a check's evidence ("file:frame" samples)."""
    return {e["fact"]: int(e["sample"].rsplit(":", 1)[1]) for e in check.get("evidence", [])}


def _walk(node, found):
    """Every dict of tshark's JSON, depth first."""
    if isinstance(node, dict):
        found.append(node)
        for v in node.values():
            _walk(v, found)
    elif isinstance(node, list):
        for v in node:
            _walk(v, found)


def _keep_repeats(pairs):
    """tshark's JSON repeats keys (two tls.record of one frame): keep all."""
    d = {}
    for k, v in pairs:
        d.setdefault(k, []).append(v)
    return {k: v[0] if len(v) == 1 else v for k, v in d.items()}


def tshark_hellos(path):
    """Per frame: the handshake messages tshark decodes, each with its type,
    key share groups (client shares, server share, HRR selected group) and
    extensions {type: data hex}.  QUIC Initials are decrypted by tshark."""
    out = subprocess.run(["tshark", "-r", path, "-T", "json", "-J", "frame tls quic"], check=True,
                         capture_output=True, text=True).stdout
    hellos = []
    for packet in json.loads(out, object_pairs_hook=_keep_repeats):
        layers = packet["_source"]["layers"]
        frame = int(layers["frame"]["frame.number"])
        found = []
        _walk(layers, found)
        for node in found:
            if "tls.handshake.type" not in node or isinstance(node["tls.handshake.type"], list):
                continue
            inner = []
            _walk(node, inner)
            exts, groups, selected = {}, [], None
            for n in inner:
                if "tls.handshake.extension.type" in n:
                    exts[int(n["tls.handshake.extension.type"])] = \
                        n.get("tls.handshake.extension.data", "").replace(":", "")
                if "tls.handshake.extensions_key_share_group" in n:
                    groups.append(int(n["tls.handshake.extensions_key_share_group"]))
                if "tls.handshake.extensions_key_share_selected_group" in n:
                    selected = int(n["tls.handshake.extensions_key_share_selected_group"])
            hellos.append({"frame": frame, "type": int(node["tls.handshake.type"]),
                           "groups": groups, "selected": selected, "exts": exts})
    return hellos


def server_share_frame(path, group):
    """The frame of the ServerHello whose key share tshark reads as group."""
    frames = [h["frame"] for h in tshark_hellos(path)
              if h["type"] == 2 and h["selected"] is None and h["groups"] == [group]]
    return frames[0] if len(frames) == 1 else frames


def ech_by_rfc(data_hex):
    """RFC 9849 5, decoded here from tshark's extension bytes."""
    b = bytes.fromhex(data_hex)
    if b[0] != 0:
        return {"type": "inner" if b[0] == 1 else b[0]}
    kdf, aead, config_id = int.from_bytes(b[1:3], "big"), int.from_bytes(b[3:5], "big"), b[5]
    enc_len = int.from_bytes(b[6:8], "big")
    payload_len = int.from_bytes(b[8 + enc_len:10 + enc_len], "big")
    return {"type": "outer", "kdf_id": kdf, "aead_id": aead, "config_id": config_id,
            "enc_length": enc_len, "payload_length": payload_len}


# ---- crafted: post-quantum key exchange ----

def hybrid_chosen(t):
    """Shares X25519MLKEM768 and x25519; the server answers X25519MLKEM768."""
    path = capture("hybrid", [dict(sni="pq.test", groups=(X25519MLKEM768, X25519),
                                   shares=(X25519MLKEM768, X25519), answer=X25519MLKEM768)])
    c = check_of(grade(path), "pq.test", "pq_kex")
    t.eq(c.get("status"), "pass", "pq_kex")
    t.eq(evidence_frames(c), {"pq:chosen:X25519MLKEM768": server_share_frame(path, 0x11ec)},
         "evidence at tshark's ServerHello")
    line = handshakes(path)[0]
    t.eq((line.get("group"), line.get("group_pq")), ("X25519MLKEM768", "post-quantum"), "group")
    t.eq(line.get("client_key_shares"), ["X25519MLKEM768", "x25519"], "key shares named")
    t.eq(line.get("client_group_names"), ["X25519MLKEM768", "x25519"], "groups named")


def classical_over_hybrid(t):
    """Shares X25519MLKEM768 and x25519; the server answers x25519: a real
    choice (it could have used the hybrid share at no cost)."""
    path = capture("classical", [dict(sni="pq.test", groups=(X25519MLKEM768, X25519),
                                      shares=(X25519MLKEM768, X25519), answer=X25519)])
    doc = grade(path)
    c = check_of(doc, "pq.test", "pq_kex")
    t.eq(c.get("status"), "fail", "pq_kex")
    t.eq(evidence_frames(c), {"pq:refused:X25519MLKEM768:x25519": server_share_frame(path, 29)},
         "evidence at tshark's ServerHello")
    srv = [s for s in doc["servers"] if s["host"] == "pq.test"][0]
    t.eq(srv.get("grade"), "A", "the 2009r letter is not changed")


def hrr_towards_hybrid(t):
    """Lists X25519MLKEM768 with an x25519 share only; the server asks for
    X25519MLKEM768 by HelloRetryRequest and uses it."""
    path = capture("hrr-hybrid", [dict(sni="pq.test", groups=(X25519MLKEM768, X25519),
                                       shares=(X25519,), hrr=X25519MLKEM768,
                                       shares2=(X25519MLKEM768,), answer=X25519MLKEM768)])
    c = check_of(grade(path), "pq.test", "pq_kex")
    t.eq(c.get("status"), "pass", "pq_kex")
    hellos = tshark_hellos(path)
    t.eq([h["selected"] for h in hellos if h["selected"] is not None], [0x11ec],
         "tshark: the HelloRetryRequest names X25519MLKEM768")
    t.eq(evidence_frames(c), {"pq:chosen:X25519MLKEM768": server_share_frame(path, 0x11ec)},
         "evidence at tshark's ServerHello")
    t.eq(handshakes(path)[0].get("hello_retry_group"), "X25519MLKEM768", "--handshakes")


def listed_without_share(t):
    """Lists X25519MLKEM768 with an x25519 share only, gets x25519 without a
    HelloRetryRequest: a round trip saved, no refusal (unknown)."""
    path = capture("no-retry", [dict(sni="pq.test", groups=(X25519MLKEM768, X25519),
                                     shares=(X25519,), answer=X25519)])
    c = check_of(grade(path), "pq.test", "pq_kex")
    t.eq(c.get("status"), "unknown", "pq_kex")
    t.eq(list(evidence_frames(c)), ["pq:no_retry:X25519MLKEM768:x25519"], "noted")


def hrr_towards_classical(t):
    """Lists X25519MLKEM768 and x25519 with a secp256r1 share; the server
    makes the round trip anyway, for x25519: it chose classical."""
    path = capture("hrr-classical", [dict(sni="pq.test", groups=(X25519MLKEM768, X25519, P256),
                                          shares=(P256,), hrr=X25519, shares2=(X25519,),
                                          answer=X25519)])
    c = check_of(grade(path), "pq.test", "pq_kex")
    t.eq(c.get("status"), "fail", "pq_kex")
    t.eq(list(evidence_frames(c)), ["pq:refused:X25519MLKEM768:x25519"], "refused")


def hrr_cookie_only(t):
    """Lists X25519MLKEM768 with an x25519 share; a HelloRetryRequest
    without key_share (RFC 8446 4.1.4: a cookie, say) names no group, and
    the x25519 share is then used: no group was asked for, no refusal."""
    path = capture("hrr-cookie", [dict(sni="pq.test", groups=(X25519MLKEM768, X25519),
                                       shares=(X25519,), hrr=None, hrr_no_group=True,
                                       shares2=(X25519,), answer=X25519)])
    t.eq([h["type"] for h in tshark_hellos(path)], [1, 2, 1, 2], "tshark: CH, HRR, CH, SH")
    c = check_of(grade(path), "pq.test", "pq_kex")
    t.eq(c.get("status"), "unknown", "pq_kex")


def obsolete_kyber(t):
    """X25519Kyber768Draft00 (0x6399) chosen: passes, said obsolete."""
    path = capture("kyber", [dict(sni="pq.test", groups=(KYBER_DRAFT, X25519),
                                  shares=(KYBER_DRAFT, X25519), answer=KYBER_DRAFT)])
    c = check_of(grade(path), "pq.test", "pq_kex")
    t.eq(c.get("status"), "pass", "pq_kex")
    t.check("obsolete" in c.get("reason", ""), "reason says obsolete: %r" % c.get("reason"))
    t.eq(list(evidence_frames(c)), ["pq:obsolete:X25519Kyber768Draft00"], "evidence")
    rc, out, _ = run_tlsgrade(["--summary", path])
    t.check("post-quantum: X25519Kyber768Draft00 (obsolete)" in out, "summary: " + out)


def aborted(t):
    """A hybrid answer whose client aborts never passes; a classical answer
    to a hybrid share whose client aborts still fails (README: an aborted
    handshake may fail checks, never pass one)."""
    path = capture("aborted-pass", [dict(sni="pq.test", groups=(X25519MLKEM768,),
                                         shares=(X25519MLKEM768,), answer=X25519MLKEM768,
                                         client_alert=47)])
    t.eq(check_of(grade(path), "pq.test", "pq_kex").get("status"), "unknown", "aborted hybrid")
    path = capture("aborted-fail", [dict(sni="pq.test", groups=(X25519MLKEM768, X25519),
                                         shares=(X25519MLKEM768, X25519), answer=X25519,
                                         client_alert=47)])
    t.eq(check_of(grade(path), "pq.test", "pq_kex").get("status"), "fail", "aborted classical")


def other_hybrid_not_held(t):
    """The server chooses X25519MLKEM768 for one client and x25519 for a
    client whose only post-quantum share is SecP256r1MLKEM768: lacking one
    hybrid is no refusal (pass).  x25519 for a client sharing
    X25519MLKEM768, the group it chooses elsewhere, fails."""
    good = dict(sni="pq.test", groups=(X25519MLKEM768, X25519),
                shares=(X25519MLKEM768, X25519), answer=X25519MLKEM768)
    other = dict(sni="pq.test", groups=(P256MLKEM768, X25519), shares=(P256MLKEM768, X25519),
                 answer=X25519)
    path = capture("other-hybrid", [good, other])
    t.eq(check_of(grade(path), "pq.test", "pq_kex").get("status"), "pass", "other hybrid")
    same = dict(good, answer=X25519)
    path = capture("same-hybrid", [good, same])
    c = check_of(grade(path), "pq.test", "pq_kex")
    t.eq(c.get("status"), "fail", "same hybrid refused")
    t.eq(sorted(evidence_frames(c)), ["pq:chosen:X25519MLKEM768",
                                      "pq:refused:X25519MLKEM768:x25519"], "both cited")


# ---- crafted: Encrypted Client Hello ----

def ech_crafted(t):
    """Two clients offer ECH with config ids 7 and 200 (kdf 1, aead 1 and
    kdf 2, aead 3), a third none; the second gets a HelloRetryRequest with
    the ECH confirmation.  --handshakes shows each offer as tshark's bytes
    decode by RFC 9849; the report counts 2 offers of 3 handshakes and
    stays unknown."""
    first = ech_outer(1, 1, 7, bytes(32), bytes(100))
    second = ech_outer(2, 3, 200, bytes(32), bytes(150))
    path = capture("ech", [
        dict(sni="public.test", groups=(X25519,), shares=(X25519,), answer=X25519, ech=first),
        dict(sni="public.test", groups=(X25519, P256), shares=(P256,), hrr=X25519,
             shares2=(X25519,), answer=X25519, ech=second, hrr_ech=True),
        dict(sni="public.test", groups=(X25519,), shares=(X25519,), answer=X25519)])
    hellos = tshark_hellos(path)
    client = [h for h in hellos if h["type"] == 1]
    lines = handshakes(path)
    want = [ech_by_rfc(client[0]["exts"][0xfe0d]), ech_by_rfc(client[1]["exts"][0xfe0d]), None]
    t.eq([w and w["config_id"] for w in want], [7, 200, None], "tshark's bytes, decoded")
    got = [{k: v for k, v in (line.get("ech") or {}).items() if k != "hrr_confirmation_frame"}
           or None for line in lines]
    t.eq(got, want, "--handshakes ech")
    hrr_frames = [h["frame"] for h in hellos if h["selected"] is not None and 0xfe0d in h["exts"]]
    t.eq([line.get("ech", {}).get("hrr_confirmation_frame") for line in lines[:2]],
         [None] + hrr_frames, "HRR confirmation at tshark's HelloRetryRequest")
    c = check_of(grade(path), "public.test", "ech")
    t.eq(c.get("status"), "unknown", "acceptance is not verifiable")
    counts = {e["fact"]: e["count"] for e in c.get("evidence", [])}
    t.eq(counts, {"ech:offered": 2, "handshakes": 3, "ech:hrr_confirmation": 1}, "counted")
    t.eq(evidence_frames(c)["ech:offered"], client[0]["frame"], "first offer at tshark's frame")
    rc, out, _ = run_tlsgrade(["--summary", path])
    t.check("ECH offered in 2 of 3 handshakes" in out, "summary: " + out)


# ---- real captures of the shared corpus ----

def real(t, name, host, status, fact, group):
    path = os.path.join(SAMPLES if name == "pq-chromium.pcap" else CORPUS, name)
    c = check_of(grade(path), host, "pq_kex")
    t.eq(c.get("status"), status, name + ": pq_kex")
    t.eq(evidence_frames(c), {fact: server_share_frame(path, group)},
         name + ": evidence at tshark's ServerHello")
    offered = [h for h in tshark_hellos(path) if h["type"] == 1]
    t.check(offered and 0x11ec in offered[0]["groups"],
            name + ": tshark sees an X25519MLKEM768 key share offered")


def real_chromium(t):
    """samples/pq-chromium.pcap (samples/make-samples.sh): headless Chromium
    against openssl s_server 3.0 on 127.0.0.1, two connections, each with
    an X25519MLKEM768 share answered by x25519, and a GREASE ECH offer."""
    path = os.path.join(SAMPLES, "pq-chromium.pcap")
    doc = grade(path)
    c = check_of(doc, "pq.example.test", "pq_kex")
    t.eq(c.get("status"), "fail", "pq_kex")
    firsts = [h["frame"] for h in tshark_hellos(path) if h["type"] == 2 and h["groups"] == [29]]
    t.eq(evidence_frames(c), {"pq:refused:X25519MLKEM768:x25519": firsts[0]},
         "evidence at tshark's first ServerHello")
    want = [ech_by_rfc(h["exts"][0xfe0d]) for h in tshark_hellos(path) if h["type"] == 1]
    t.eq([line.get("ech") for line in handshakes(path)], want, "--handshakes ech")
    t.eq({e["fact"]: e["count"] for e in check_of(doc, "pq.example.test", "ech")["evidence"]},
         {"ech:offered": 2, "handshakes": 2}, "ECH counted")


def real_ech(t):
    """Both ClientHellos of the ECH capture: the offers as tshark's bytes
    decode; two offers of two handshakes."""
    path = os.path.join(CORPUS, "zeek__tls13-ech.pcap")
    want = [ech_by_rfc(h["exts"][0xfe0d]) for h in tshark_hellos(path) if h["type"] == 1]
    got = [line["ech"] for line in handshakes(path) if "ech" in line]
    t.eq(got, want, "--handshakes ech")
    c = check_of(grade(path), "cloudflare-ech.com", "ech")
    t.eq(c.get("status"), "unknown", "ech")
    t.eq({e["fact"]: e["count"] for e in c.get("evidence", [])},
         {"ech:offered": 2, "handshakes": 2}, "counted")


def main():
    t = Suite()
    if not shutil.which("tshark"):
        print("tshark missing")
        sys.exit(1)
    for fn in (hybrid_chosen, classical_over_hybrid, hrr_towards_hybrid, listed_without_share,
               hrr_towards_classical, hrr_cookie_only, obsolete_kyber, aborted, other_hybrid_not_held,
               ech_crafted, real_ech):
        t.run(fn)
    t.run(real, "arkime__tls-split-client-hello.pcap", "clients2.google.com", "pass",
          "pq:chosen:X25519MLKEM768", 0x11ec)
    t.run(real, "suricata__quic-retry.pcap", "www.gravatar.com", "fail",
          "pq:refused:X25519MLKEM768:x25519", 29)
    t.run(real_chromium)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
