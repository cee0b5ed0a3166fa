#!/usr/bin/env python3
"""make bench-live: the highest replay rate each live reader takes without
losing a packet.

A veth pair in a network namespace made here; tcpreplay sends PACKETS
packets of the tap-like benchmark capture out of one end at fixed rates
(Mbit/s), the reader captures the other end; a rate is kept when every run
received every packet sent (tcpreplay's count against the reader's).
Readers: tcpdump -w /dev/null (the reference), tlsgrade with its default
live options, and tlsgrade -j 2.  Needs root, tcpreplay and tcpdump.

  python3 tests/bench/live.py PCAP [--rates 100,250,...] [--runs 2] [--packets N]
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NS = "tlsgrade-bench-%d" % os.getpid()


def sh(*args, check=True):
    return subprocess.run(list(args), capture_output=True, text=True, check=check)


def netns_up():
    sh("ip", "netns", "add", NS)
    sh("ip", "link", "add", "bA", "netns", NS, "type", "veth", "peer", "name", "bB", "netns", NS)
    for dev in ("bA", "bB"):
        sh("ip", "-n", NS, "link", "set", dev, "mtu", "9000", "up")
        sh("ip", "netns", "exec", NS, "sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % dev,
           check=False)


def netns_down():
    sh("ip", "netns", "del", NS, check=False)


def replay(pcap, mbps, packets):
    r = sh("ip", "netns", "exec", NS, "tcpreplay", "-i", "bA", "--mbps", str(mbps),
           "--limit", str(packets), pcap, check=False)
    m = re.search(r"Successful packets:\s+(\d+)", r.stdout)
    return int(m.group(1)) if m else -1


def start(cmd):
    p = subprocess.Popen(["ip", "netns", "exec", NS] + cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    time.sleep(1.0)  # the socket is open before the first packet
    return p


def received_tcpdump(p):
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    m = re.search(r"(\d+) packets captured", err.decode())
    return int(m.group(1)) if m else -1


def received_tlsgrade(p, out):
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=600)
    try:
        return int(json.load(open(out))["stats"]["packets"])
    except (OSError, ValueError, KeyError):
        return -1


def one_run(reader, pcap, mbps, packets, tmp):
    out = os.path.join(tmp, "r.json")
    tg = os.path.join(TOP, "tlsgrade")
    if reader == "tcpdump":
        p = start(["tcpdump", "-i", "bB", "-w", "/dev/null"])
    else:
        extra = ["-j", "2"] if reader == "tlsgrade -j 2" else []
        p = start([tg, "-i", "bB", "-Z", "root", "--format", "json", "-o", out] + extra)
    sent = replay(pcap, mbps, packets)
    time.sleep(1.0)  # the last blocks are handed over (100 ms) and read
    got = received_tcpdump(p) if reader == "tcpdump" else received_tlsgrade(p, out)
    return sent, got


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("--rates", default="100,250,500,1000,1800,2500")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--packets", type=int, default=200000)
    a = ap.parse_args(argv[1:])
    if os.geteuid() != 0 or not shutil.which("tcpreplay") or not shutil.which("tcpdump"):
        print("bench-live: needs root, tcpreplay and tcpdump", file=sys.stderr)
        return 1
    rates = [int(r) for r in a.rates.split(",")]
    tmp = tempfile.mkdtemp(prefix="tlsgrade-bench-live-")
    os.chmod(tmp, 0o777)
    readers = ["tcpdump", "tlsgrade", "tlsgrade -j 2"]
    best = {r: None for r in readers}
    netns_up()
    try:
        print("| reader | Mbit/s | run | sent | received | lost |")
        print("|---|---|---|---|---|---|")
        for reader in readers:
            for mbps in rates:
                clean = True
                for run in range(a.runs):
                    sent, got = one_run(reader, a.pcap, mbps, a.packets, tmp)
                    lost = sent - got if sent >= 0 and got >= 0 else None
                    print("| %s | %d | %d | %d | %d | %s |" % (reader, mbps, run + 1, sent, got,
                                                             lost if lost is not None else "?"),
                          flush=True)
                    clean = clean and lost == 0
                if not clean:
                    break
                best[reader] = mbps
    finally:
        netns_down()
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print("| reader | highest rate without loss (%d runs, %d packets each) |" %
          (a.runs, a.packets))
    print("|---|---|")
    for reader in readers:
        print("| %s | %s |" % (reader, "%d Mbit/s" % best[reader] if best[reader] else
                               "none of the rates tried"))
    return 0


sys.exit(main(sys.argv))
