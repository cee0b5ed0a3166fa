#!/usr/bin/env python3
"""tests/bench/table.py - run each tool RUNS times on the benchmark capture
(round robin, the page cache warmed before every run) and print one table: median seconds, MB/s, packets/s, peak RSS (the child's
ru_maxrss, what /usr/bin/time -v reports) and the ratio of each figure's
throughput to the libpcap floor and to single-threaded tlsgrade.

usage: table.py PCAP RUNS -- LABEL CMD... ;; LABEL CMD... ;; ...
The first row must be the floor, the second single-threaded tlsgrade."""
import os
import statistics
import subprocess
import sys
import tempfile
import time


def warm(path):
    """Read the capture right before each run: a kernel that reclaims idle
    page cache (DAMON on some VMs) would otherwise time the disk."""
    with open(path, "rb") as f:
        while f.read(8 << 20):
            pass


def measure_once(cmd, pcap):
    """Seconds, and the command's peak RSS in KiB as GNU time reports it.
    Not the rusage of a child of this process: Linux starts an exec'd
    process's ru_maxrss at the high-water mark of the image it replaced,
    so every child of this Python process "peaked" at its 20 MB
    (/bin/true did); time(1) is a small parent."""
    warm(pcap)
    with tempfile.NamedTemporaryFile("r") as rss:
        start = time.perf_counter()
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        lines = rss.read().split()
    return seconds, int(lines[-1]) if lines and lines[-1].isdigit() else 0


def main():
    pcap, runs = sys.argv[1], int(sys.argv[2])
    rows, cur = [], []
    for arg in sys.argv[4:]:
        if arg == ";;":
            rows.append(cur)
            cur = []
        else:
            cur.append(arg)
    if cur:
        rows.append(cur)
    size_mb = os.path.getsize(pcap) / 1e6
    packets = int(subprocess.run(rows[0][1:], capture_output=True, text=True).stdout.split()[0])
    # Round robin, one run of each tool per round, so that a slow spell of
    # the machine falls on every tool alike; the median of each.
    times = [[] for _ in rows]
    rss = [0 for _ in rows]
    for _ in range(runs):
        for k, row in enumerate(rows):
            seconds, peak = measure_once(row[1:], pcap)
            times[k].append(seconds)
            rss[k] = max(rss[k], peak)
    results = [(row[0], statistics.median(times[k]), rss[k] / 1024.0)
               for k, row in enumerate(rows)]
    floor, ours = results[0][1], results[1][1]
    print("%-38s %8s %8s %10s %9s %8s %8s" % ("tool (%.0f MB, %d packets, median of %d)" %
                                               (size_mb, packets, runs), "seconds", "MB/s",
                                               "packets/s", "peak RSS", "÷floor", "÷tlsgrade"))
    for label, seconds, rss in results:
        print("%-38s %8.2f %8.0f %10.0f %7.0fMB %8.2f %8.2f" %
              (label, seconds, size_mb / seconds, packets / seconds, rss, floor / seconds,
               ours / seconds))


main()
