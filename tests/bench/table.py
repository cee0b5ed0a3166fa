#!/usr/bin/env python3
"""tests/bench/table.py - run each tool RUNS times on the benchmark capture
and print one table: median seconds, MB/s, packets/s, peak RSS (the child's
ru_maxrss, what /usr/bin/time -v reports) and the ratio of each figure's
throughput to the libpcap floor and to single-threaded tlsgrade.

usage: table.py PCAP RUNS -- LABEL CMD... ;; LABEL CMD... ;; ...
The first row must be the floor, the second single-threaded tlsgrade."""
import os
import statistics
import subprocess
import sys
import time


def measure(cmd, runs):
    times, rss = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - start)
        rss = max(rss, usage.ru_maxrss)
    return statistics.median(times), rss / 1024.0


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
    results = []
    for row in rows:
        seconds, rss = measure(row[1:], runs)
        results.append((row[0], seconds, rss))
    floor, ours = results[0][1], results[1][1]
    print("%-38s %8s %8s %10s %9s %8s %8s" % ("tool (%.0f MB, %d packets, median of %d)" %
                                               (size_mb, packets, runs), "seconds", "MB/s",
                                               "packets/s", "peak RSS", "÷floor", "÷tlsgrade"))
    for label, seconds, rss in results:
        print("%-38s %8.2f %8.0f %10.0f %7.0fMB %8.2f %8.2f" %
              (label, seconds, size_mb / seconds, packets / seconds, rss, floor / seconds,
               ours / seconds))


main()
