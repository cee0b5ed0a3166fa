#!/usr/bin/env python3
"""tests/bench/table.py - run each tool RUNS times on the benchmark capture
(round robin, the page cache warmed before every run) and print one table: median seconds, MB/s, packets/s, peak RSS (the child's
ru_maxrss, what /usr/bin/time -v reports) and the ratio of each figure's
throughput to the libpcap floor and to single-threaded tlsgrade.

usage: table.py PCAP RUNS -- LABEL CMD... ;; LABEL CMD... ;; ...
The first row must be the floor, the second single-threaded tlsgrade.  A
row whose CMD starts with --pair runs two copies of the rest at once: its
seconds are until both are done, its MB/s, packets/s and ratios count the
work of two (what two cores give two independent runs: the ceiling a
machine sets for -j 2)."""
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


def measure_once(cmd, pcap, copies=1):
    """Seconds until every copy is done, and the largest peak RSS of a copy
    in KiB as GNU time reports it.  Not the rusage of a child of this
    process: Linux starts an exec'd process's ru_maxrss at the high-water
    mark of the image it replaced, so every child of this Python process
    "peaked" at its 20 MB (/bin/true did); time(1) is a small parent."""
    warm(pcap)
    files = [tempfile.NamedTemporaryFile("r") for _ in range(copies)]
    start = time.perf_counter()
    procs = [subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", f.name] + cmd,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for f in files]
    for p in procs:
        p.wait()
    seconds = time.perf_counter() - start
    peak = 0
    for f in files:
        lines = f.read().split()
        peak = max(peak, int(lines[-1]) if lines and lines[-1].isdigit() else 0)
        f.close()
    return seconds, peak


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
    copies = [2 if row[1:2] == ["--pair"] else 1 for row in rows]
    for _ in range(runs):
        for k, row in enumerate(rows):
            seconds, peak = measure_once(row[1 + (copies[k] > 1):], pcap, copies[k])
            times[k].append(seconds)
            rss[k] = max(rss[k], peak)
    # A pair's figures are per copy's worth of work: its seconds halved.
    results = [(row[0], statistics.median(times[k]), rss[k] / 1024.0, copies[k])
               for k, row in enumerate(rows)]
    floor, ours = results[0][1], results[1][1]
    print("%-38s %8s %8s %10s %9s %8s %8s" % ("tool (%.0f MB, %d packets, median of %d)" %
                                               (size_mb, packets, runs), "seconds", "MB/s",
                                               "packets/s", "peak RSS", "÷floor", "÷tlsgrade"))
    for label, seconds, rss, n in results:
        per = seconds / n
        print("%-38s %8.2f %8.0f %10.0f %7.0fMB %8.2f %8.2f" %
              (label, seconds, size_mb / per, packets / per, rss, floor / per, ours / per))


main()
