"""The HTML report in a real browser: Debian's Chromium, headless, loads the
page (its CSP forbids scripts), and the DOM it builds must hold the summary
table with one row per server and one section per server, in the order of
the JSON report.  A screenshot is kept as build/artifacts/report.png."""
import html.parser
import json
import os
import shutil
import subprocess
import tempfile

from oracle import CORPUS, TOP, Suite, run_tlsgrade

TMP = tempfile.mkdtemp(prefix="tlsgrade-html-")
INPUTS = [os.path.join(CORPUS, "pcaps", n) for n in
          ("zeek__tls1_1.pcap", "zeek__dhe.pcap", "arkime__openssl-ssl3.pcap",
           "zeek__tls-expired-cert.pcap")]
CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"]


class Dom(html.parser.HTMLParser):
    """Counts what the browser built: summary rows and server sections."""

    def __init__(self):
        super().__init__()
        self.sections, self.in_summary, self.summary_rows, self.scripts = [], False, 0, 0
        self.tables_after_summary = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h2" and a.get("id") == "summary":
            self.in_summary = True
        elif tag == "table" and self.in_summary:
            self.tables_after_summary += 1
        elif tag == "tr" and self.in_summary and self.tables_after_summary == 1:
            self.summary_rows += 1
        elif tag == "section" and (a.get("id") or "").startswith("srv-"):
            self.sections.append(a["id"])
            self.in_summary = False
        elif tag == "script":
            self.scripts += 1


def browser(t):
    if not shutil.which("chromium"):
        t.check(False, "chromium is not installed: run make deps")
        return
    page = os.path.join(TMP, "report.html")
    rc, _, err = run_tlsgrade(["--format", "html", "-o", page] + INPUTS)
    t.eq(rc, 0, "report written: " + err)
    rc, out, err = run_tlsgrade(["--format", "json"] + INPUTS)
    servers = json.loads(out)["servers"]
    profile = os.path.join(TMP, "profile")
    dom = subprocess.run(CHROMIUM + ["--user-data-dir=" + profile, "--dump-dom",
                                     "file://" + page], capture_output=True, timeout=120)
    t.eq(dom.returncode, 0, "chromium ran: " + dom.stderr.decode()[-300:])
    d = Dom()
    d.feed(dom.stdout.decode("utf-8", "replace"))
    t.eq(d.summary_rows - 1, len(servers), "summary table: a header row and one row per server")
    t.eq(len(d.sections), len(servers), "one section per server")
    t.eq(d.scripts, 0, "no script element")
    text = dom.stdout.decode("utf-8", "replace")
    for s in servers:
        t.check(s["ip"] in text, "server %s shown" % s["ip"])
    art = os.path.join(TOP, "build", "artifacts")
    os.makedirs(art, exist_ok=True)
    shot = os.path.join(art, "report.png")
    if os.path.exists(shot):
        os.remove(shot)
    subprocess.run(CHROMIUM + ["--user-data-dir=" + profile, "--window-size=1280,2400",
                               "--screenshot=" + shot, "file://" + page],
                   capture_output=True, timeout=120)
    t.check(os.path.exists(shot) and open(shot, "rb").read(8) == b"\x89PNG\r\n\x1a\n",
            "screenshot kept at " + shot)


def main():
    t = Suite()
    t.run(browser)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
