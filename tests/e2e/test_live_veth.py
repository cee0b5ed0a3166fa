"""Live capture on a veth pair inside a network namespace the test makes:
tcpreplay sends sample captures out of one end at a modest rate, tlsgrade
captures the other end with its default live options, and when the kernel
dropped nothing the live report must grade every server as the offline
report of the same files does (grades and check statuses; frame
references differ: the live ones cite the interface).  With -j 2 the two
threads read their own handles of one PACKET_FANOUT group: every packet of
a connection must reach the same thread, or connections would be graded
in halves.

Samples whose grade depends on the packet time (certificates not yet valid
or expired at the capture's date, distrust cut-offs by issue date) are left
out: live packets carry today's time."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from oracle import TLSGRADE, TOP, Suite, run_tlsgrade

SAMPLES = os.path.join(TOP, "samples")
TRUST = ["--ca-file", os.path.join(SAMPLES, "certs", "root.pem")]
CHOSEN = ["demo-cloud-consoles.pcap", "export-rsa.pcap", "ssl3-poodle.pcap", "rc4-tls12.pcap",
          "3des-tls12.pcap", "heartbleed.pcap", "dhe-1024.pcap", "null-cipher.pcap",
          "anon-ecdh.pcap", "tls10-best.pcap", "compression.pcap", "sslv2.pcap"]


def ip(*args, check=True):
    return subprocess.run(["ip"] + list(args), capture_output=True, text=True, check=check)


def servers(doc):
    return {(s["host"], s["ip"], s["port"]):
            (s["grade"], tuple((c["id"], c["status"]) for c in s["checks"]))
            for s in doc.get("servers", [])}


def replayed_like_offline(t, extra=()):
    if os.getuid() != 0:
        t.check(False, "a network namespace needs root")
        return
    if not shutil.which("tcpreplay"):
        t.check(False, "tcpreplay is not installed (make deps)")
        return
    caps = [os.path.join(SAMPLES, c) for c in CHOSEN if os.path.exists(os.path.join(SAMPLES, c))]
    t.check(len(caps) >= 8, "the chosen samples exist: %d" % len(caps))
    ns = "tlsgrade-veth-%d" % os.getpid()
    d = tempfile.mkdtemp(prefix="tlsgrade-veth-")
    os.chmod(d, 0o777)
    rep = os.path.join(d, "live.json")
    ip("netns", "add", ns)
    proc = None
    try:
        ip("link", "add", "tgA", "netns", ns, "type", "veth", "peer", "name", "tgB", "netns", ns)
        for dev in ("tgA", "tgB"):
            # the real samples were recorded on lo: segments of up to 64 kB
            ip("-n", ns, "link", "set", dev, "mtu", "65535", "up")
            # nothing of the host's own: no IPv6 router solicitations on the wire
            subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw",
                            "net.ipv6.conf.%s.disable_ipv6=1" % dev], capture_output=True)
        proc = subprocess.Popen(["ip", "netns", "exec", ns, TLSGRADE, "-i", "tgB", "--format",
                                 "json", "-o", rep] + TRUST + list(extra),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = proc.stderr.readline()
        t.check(b"listening on" in line, "started: %r" % line)
        r = subprocess.run(["ip", "netns", "exec", ns, "tcpreplay", "-q", "-i", "tgA", "--mbps",
                            "20"] + caps, capture_output=True, text=True, timeout=300)
        t.eq(r.returncode, 0, "tcpreplay: " + r.stderr[-300:])
        time.sleep(1.0)  # the last packets reach the reader
    finally:
        if proc:
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=60)
            t.eq(proc.returncode, 0, "live exit status: " + err.decode()[-300:])
        ip("netns", "del", ns, check=False)
    live = json.load(open(rep)) if os.path.exists(rep) else {}
    stats = live.get("stats", {})
    drops = stats.get("pcap_drops", -1) + stats.get("pcap_ifdrops", 0)
    t.eq(drops, 0, "nothing dropped at 20 Mbit/s with the default options")
    rc, out, err = run_tlsgrade(["--format", "json"] + TRUST + caps)
    t.eq(rc, 0, "offline: " + err)
    offline = json.loads(out) if rc == 0 else {}
    t.eq(stats.get("packets"), offline.get("stats", {}).get("packets"),
         "each packet read once (by one thread of the group)")
    a, b = servers(live), servers(offline)
    t.check(len(b) >= 12, "the offline report grades the samples' servers: %d" % len(b))
    t.check(a == b, "live grades as offline: %r" %
            sorted((k, a.get(k, ("-",))[0], b.get(k, ("-",))[0])
                   for k in set(a) | set(b) if a.get(k) != b.get(k))[:6])
    shutil.rmtree(d, ignore_errors=True)


def main():
    t = Suite()
    t.run(replayed_like_offline)
    t.run(replayed_like_offline, ["-j", "2"])
    t.done()


main()
