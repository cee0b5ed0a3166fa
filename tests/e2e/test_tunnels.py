"""Packets delivered inside tunnels are graded like the bare ones.

A sample capture (real TLS) is wrapped, every frame, in each encapsulation
a mirror session or a carrier network uses (tunnelgen.py: headers laid out
from their specifications): VXLAN, GENEVE (over IPv6, with an option;
Ethernet or IP inside), GRE (key and checksum; Ethernet or IP inside),
ERSPAN types II and III, MPLS (IP; an Ethernet pseudowire with and without
the control word), PPPoE, GTP-U (with an extension header), and ERSPAN
carrying VXLAN.  For each:
- tshark finds as many ClientHellos in the wrapped capture as in the bare
  one: the oracle that the wrapping is right (tshark tells an Ethernet
  pseudowire's control word by vendor lists, so it is told which one it is
  with -d);
- tlsgrade's --handshakes lines are those of the bare capture (all fields
  but the file name), with one thread and with -j 2, plus the tunnels;
- every --flows line names the tunnels, and the stats count one header of
  each kind per frame.
The outer source address of a UDP tunnel differs by direction (two mirror
sources): the flow is still one.  Two tenants with the same inner
addresses under different VNIs make two flows each, each with its
handshakes (tshark, which keys streams by the inner addresses alone, is
no oracle there: it takes one tenant's packets for the other's
retransmissions); the same VNI twice does not.  A VXLAN header on another port (8472, Linux's old default) is
not read.  Nine nested GRE layers exceed the depth cap (8): dropped and
counted; eight are read.  `--limit tunnel-layers=2` lowers the cap: three
layers are then dropped, each frame counted in the report's `limits`
(`encapsulation_depth`), and two are still read and graded."""
import functools
import json
import os
import shutil
import subprocess
import tempfile

from oracle import CORPUS, TOP, Suite, parse_flow_lines, run_tlsgrade
import tunnelgen

TMP = tempfile.mkdtemp(prefix="tlsgrade-tunnels-")
SAMPLE4 = os.path.join(TOP, "samples", "a-grade.pcap")
SAMPLE6 = os.path.join(CORPUS, "pcaps", "zeek__certificate-request-failed.pcap")
JOBS_TOO = ("vxlan", "gtpu", "erspan2_vxlan")  # also run with -j 2
PW_CW, PW_NOCW = ["-d", "mpls.label==1000,pwethcw"], ["-d", "mpls.label==1000,pwethnocw"]

# name -> (layers, what --flows must say, the counters of stats.tunnels, tshark options)
CASES = {
    "vxlan": ([("vxlan", {"vni": 42})], "vxlan:vni=42", {"vxlan": 1}, []),
    "geneve6": ([("geneve", {"vni": 9, "outer6": True})], "geneve:vni=9", {"geneve": 1}, []),
    "geneve_ip": ([("geneve", {"vni": 0x123456, "ip": True})], "geneve:vni=1193046",
                  {"geneve": 1}, []),
    "gre_key": ([("gre", {"key": 5})], "gre:key=5", {"gre": 1}, []),
    "gre_ip": ([("gre", {"ip": True})], "gre", {"gre": 1}, []),
    "erspan2": ([("erspan2", {})], "erspan2", {"erspan2": 1}, []),
    "erspan3": ([("erspan3", {})], "erspan3", {"erspan3": 1}, []),
    "mpls": ([("mpls", {})], "mpls", {"mpls": 1}, []),
    "mpls_pw_cw": ([("mpls", {"pw": True})], "mpls", {"mpls": 1}, PW_CW),
    "mpls_pw_nocw": ([("mpls", {"pw": "nocw"})], "mpls", {"mpls": 1}, PW_NOCW),
    "pppoe": ([("pppoe", {})], "pppoe", {"pppoe": 1}, []),
    "gtpu": ([("gtpu", {})], "gtpu", {"gtpu": 1}, []),
    "erspan2_vxlan": ([("erspan2", {}), ("vxlan", {"vni": 7})], "erspan2>vxlan:vni=7",
                      {"erspan2": 1, "vxlan": 1}, []),
}


@functools.lru_cache(maxsize=None)
def tshark_hellos(path, opts=()):
    out = subprocess.run(["tshark", "-r", path] + list(opts) + ["-Y", "tls.handshake.type==1"],
                         capture_output=True, check=True).stdout
    return len(out.splitlines())


def handshakes(t, path, jobs=1, label=None):
    """--handshakes lines without the file name and the tunnels; label:
    what each must name as its tunnels ("": none; None: not checked)."""
    args = ["--handshakes", path] + (["-j", str(jobs)] if jobs > 1 else [])
    rc, out, err = run_tlsgrade(args)
    t.check(rc in (0, 1), "exit status %d: %s" % (rc, err))
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    for h in lines:
        h.pop("file", None)
        encap = h.pop("encap", None)
        if label is not None:
            t.eq(encap, label or None, "--handshakes encap")
    return sorted(json.dumps(h, sort_keys=True) for h in lines)


def same(t, got, want, what):
    """got == want (lists of lines); a failure shows the first difference."""
    if got == want:
        return
    extra = [g for g in got if g not in want][:1]
    missing = [w for w in want if w not in got][:1]
    t.check(False, "%s: %d lines, want %d; extra %s; missing %s" % (
        what, len(got), len(want), [e[:300] for e in extra], [m[:300] for m in missing]))


def summary(lines):
    """What identifies a handshake, without frame numbers."""
    keys = ("client", "server", "sni", "version", "cipher", "ja3", "ja3s", "established")
    return sorted(json.dumps([json.loads(h).get(k) for k in keys]) for h in lines)


def flows(t, path):
    rc, out, err = run_tlsgrade(["--flows", "--no-ndpi", path])
    t.eq(rc, 0, "exit status: " + err)
    return parse_flow_lines(out)


def wrapped(name, sample, layers):
    path = os.path.join(TMP, "%s-%s.pcap" % (name, os.path.basename(sample)))
    tunnelgen.wrap(sample, path, layers)
    return path


def test_encapsulation(t, name, sample):
    layers, label, per_frame, tshark_opts = CASES[name]
    bare = handshakes(t, sample, label="")
    t.check(len(bare) > 0, "the sample has handshakes")
    path = wrapped(name, sample, layers)
    t.eq(tshark_hellos(path, tuple(tshark_opts)), tshark_hellos(sample), "tshark: ClientHellos")
    same(t, handshakes(t, path, label=label), bare, "--handshakes as in the bare capture")
    if name in JOBS_TOO:
        same(t, handshakes(t, path, jobs=2, label=label), bare,
             "--handshakes -j 2 as in the bare capture")
    got, stats = flows(t, path)
    bare_flows, _ = flows(t, sample)
    t.eq(len(got), len(bare_flows), "flows")
    t.eq(sorted({f.get("encap") for f in got}), [label], "--flows encap")
    frames = len(tunnelgen.read_pcap(sample))
    want = {kind: per_frame.get(kind, 0) * frames for kind in stats["tunnels"]}
    want["malformed"] = 0
    t.eq(stats["tunnels"], want, "stats.tunnels")


def test_two_tenants(t):
    bare = handshakes(t, SAMPLE4)
    bare_flows, _ = flows(t, SAMPLE4)
    path = os.path.join(TMP, "tenants.pcap")
    tunnelgen.wrap_many(SAMPLE4, path, [[("vxlan", {"vni": 1})], [("vxlan", {"vni": 2})]])
    same(t, summary(handshakes(t, path)), sorted(summary(bare) * 2),
         "each handshake once per tenant")
    same(t, summary(handshakes(t, path, jobs=2)), sorted(summary(bare) * 2), "the same with -j 2")
    got, _ = flows(t, path)
    t.eq(sorted(f["encap"] for f in got),
         sorted(["vxlan:vni=1"] * len(bare_flows) + ["vxlan:vni=2"] * len(bare_flows)),
         "one flow per tenant and inner 5-tuple")
    one_vni = os.path.join(TMP, "same-tenant.pcap")
    tunnelgen.wrap_many(SAMPLE4, one_vni, [[("vxlan", {"vni": 3})], [("vxlan", {"vni": 3})]])
    got, _ = flows(t, one_vni)
    t.eq(len(got), len(bare_flows), "one VNI: each packet twice, one flow")


def test_other_port_not_read(t):
    path = wrapped("vxlan8472", SAMPLE4, [("vxlan", {"vni": 42, "port": 8472})])
    got, stats = flows(t, path)
    t.eq(handshakes(t, path), [], "no handshake")
    t.eq(sum(stats["tunnels"].values()), 0, "no tunnel header read")
    t.check(all(f["l4"] == "udp" and f["server"].endswith(":8472") for f in got),
            "the outer UDP datagrams are the flows")


def test_depth_cap(t):
    frames = len(tunnelgen.read_pcap(SAMPLE4))
    eight = wrapped("gre8", SAMPLE4, [("gre", {"ip": True})] * 8)
    t.eq(tshark_hellos(eight), tshark_hellos(SAMPLE4), "tshark: eight layers")
    same(t, handshakes(t, eight), handshakes(t, SAMPLE4), "eight layers are read")
    nine = wrapped("gre9", SAMPLE4, [("gre", {"ip": True})] * 9)
    got, stats = flows(t, nine)
    t.eq(got, [], "nine layers: no flow")
    t.eq(stats["cap_hits"]["encapsulation_depth"], frames, "cap hits, one per frame")
    t.eq(stats["tunnels"]["gre"], 8 * frames, "the eight layers read before the cap")


def grade_json(t, path, *extra):
    rc, out, err = run_tlsgrade(["--format", "json"] + list(extra) + [path])
    t.eq(rc, 0, "exit status: " + err)
    return json.loads(out)


def test_depth_limit(t):
    frames = len(tunnelgen.read_pcap(SAMPLE4))
    bare = grade_json(t, SAMPLE4)
    t.check(len(bare["servers"]) > 0, "the bare sample is graded")
    two = wrapped("gre2", SAMPLE4, [("gre", {"ip": True})] * 2)
    three = wrapped("gre3", SAMPLE4, [("gre", {"ip": True})] * 3)
    t.eq(tshark_hellos(three), tshark_hellos(SAMPLE4), "tshark: three layers")
    rep = grade_json(t, three, "--limit", "tunnel-layers=2")
    t.eq(rep["limits"]["encapsulation_depth"], {"limit": 2, "hits": frames},
         "three layers past a cap of two: every frame dropped and counted")
    t.eq(rep["servers"], [], "nothing graded")
    rep = grade_json(t, two, "--limit", "tunnel-layers=2")
    t.eq(rep["limits"]["encapsulation_depth"], {"limit": 2, "hits": 0}, "two layers: no hit")
    t.eq(len(rep["servers"]), len(bare["servers"]), "two layers: graded as bare")
    rep = grade_json(t, three)
    t.eq(rep["limits"]["encapsulation_depth"], {"limit": 8, "hits": 0}, "default: no hit")
    t.eq(len(rep["servers"]), len(bare["servers"]), "default: three layers graded")
    rc, _, err = run_tlsgrade(["--limit", "tunnel-layers=9", three])
    t.eq(rc, 2, "more than 8 layers cannot be asked for: " + err)


def main():
    s = Suite()
    if not shutil.which("tshark"):
        print("tshark missing")
        s.done()
    samples = [SAMPLE4] + ([SAMPLE6] if os.path.exists(SAMPLE6) else [])
    for name in CASES:
        for sample in samples:
            s.run(test_encapsulation, name, sample)
    s.run(test_two_tenants)
    s.run(test_other_port_not_read)
    s.run(test_depth_cap)
    s.run(test_depth_limit)
    shutil.rmtree(TMP, ignore_errors=True)
    s.done()


main()
