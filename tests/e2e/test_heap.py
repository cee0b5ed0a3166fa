"""A run that reads much starts itself again once, with glibc told to put
the heap in transparent huge pages (tlsgrade.c, heap_in_huge_pages): a
live interface, standard input, a directory, or 64 MB of files and more;
never a small run, never when GLIBC_TUNABLES already names the huge pages,
and with any other tunable the user gave kept.  Whichever way, the report
is the same.  The starts are seen with strace (execve)."""
import os
import shutil
import subprocess
import tempfile

from oracle import TLSGRADE, TOP, Suite

SAMPLE = os.path.join(TOP, "samples", "demo-cloud-consoles.pcap")
TMP = tempfile.mkdtemp(prefix="tlsgrade-heap-")
SANITIZED = os.environ.get("SAN") in ("1", "thread")


def traced(args, env_extra=None, stdin=None):
    """(execve lines, report, exit status) of one run under strace -f."""
    env = dict(os.environ)
    env.pop("GLIBC_TUNABLES", None)
    env.setdefault("SOURCE_DATE_EPOCH", "1700000000")  # the report's time, as tests/run.sh fixes it
    env.update(env_extra or {})
    log = os.path.join(TMP, "strace.log")
    with open(stdin or os.devnull, "rb") as inp:
        p = subprocess.run(["strace", "-f", "-qq", "-s", "512", "-v", "-e", "trace=execve", "-o",
                            log, TLSGRADE, "--format", "json"] + args,
                           stdin=inp, capture_output=True, env=env, timeout=120)
    execs = [x for x in open(log).read().splitlines() if "execve(" in x]
    return execs, p.stdout, p.returncode


def big_copy():
    """The sample's records again and again to 65 MB (over the 64 MB)."""
    data = open(SAMPLE, "rb").read()
    head, body = data[:24], data[24:]
    path = os.path.join(TMP, "big.pcap")
    with open(path, "wb") as f:
        f.write(head)
        size = 24
        while size < 65 << 20:
            f.write(body)
            size += len(body)
    return path


def small_file(t):
    small, _, rc = traced([SAMPLE])
    t.eq(rc, 0, "small file: exit status")
    t.eq(len(small), 1, "small file: started once (%d execve)" % len(small))


def stdin(t):
    execs, piped, rc = traced(["-"], stdin=SAMPLE)
    t.eq(rc, 0, "stdin: exit status")
    t.eq(len(execs), 2, "stdin: started again once (%d execve)" % len(execs))
    again = execs[-1] if execs else ""
    t.check("/proc/self/exe" in again and "GLIBC_TUNABLES=glibc.malloc.hugetlb=1" in again,
            "stdin: again with the huge pages: " + again[:200])
    t.check(b'"servers"' in piped, "stdin: a report")


def big_files(t):
    big = big_copy()
    execs, report, rc = traced([big], {"GLIBC_TUNABLES": "glibc.malloc.tcache_count=5"})
    t.eq(rc, 0, "65 MB: exit status")
    t.eq(len(execs), 2, "65 MB: started again once")
    again = execs[-1] if execs else ""
    t.check("GLIBC_TUNABLES=glibc.malloc.tcache_count=5:glibc.malloc.hugetlb=1" in again,
            "65 MB: the user's tunable kept: " + again[:300])
    t.check("TLSGRADE_HEAP_TUNED=1" in again, "65 MB: the mark that stops a second start")
    execs, report4k, rc = traced([big], {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"})
    t.eq(rc, 0, "65 MB, hugetlb=0: exit status")
    t.eq(len(execs), 1, "65 MB, hugetlb=0: the user's choice, started once")
    t.check(len(report) > 1000 and report == report4k,
            "65 MB: the same report in huge pages and in 4 kB pages")
    execs, _, rc = traced([TMP])
    t.eq(len(execs), 2, "a directory: started again once")


def main():
    t = Suite()
    if SANITIZED:
        print("skip: a sanitizer build never starts itself again")
    else:
        for fn in (small_file, stdin, big_files):
            t.run(fn)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
