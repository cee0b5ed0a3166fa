"""The HTML report of the samples laid out by a real browser (Debian's
Chromium, headless, no network) at 1400 and 420 CSS pixels wide.

What is measured, with the browser's own layout (getBoundingClientRect,
getClientRects, scrollWidth), not with the report's markup:
  - the summary table starts in the upper half of the first screen, and the
    list of inputs is not shown above it;
  - the page never scrolls sideways, and every cell of the summary fits in
    the window;
  - every address ("192.0.2.1:443", "[2001:db8::1]:443"), every client
    address and JA4 (the client tables) and every check id lies on one line
    (an inline box broken across lines has several client rectangles).
Headless Chromium lays out no window narrower than 500 pixels, so the page
is measured inside iframes of the exact widths: a copy of the report with
its CSP meta removed and a measuring script added posts the numbers to the
harness page, which --dump-dom prints (one browser run for both widths:
starting Chromium is most of the test's time).  The report itself stays
script free.
Screenshots of the unmodified report at both widths are kept as
build/artifacts/html-1400.png and build/artifacts/html-420.png.

Without a browser, from the HTML text: each server's key findings are in
the order of the letter they impose (T, M, then caps from F up, then
warnings), the letters taken from the JSON report's checks.
"""
import html
import html.parser
import json
import os
import re
import shutil
import subprocess
import tempfile

from oracle import TOP, Suite, run_tlsgrade

TMP = tempfile.mkdtemp(prefix="tlsgrade-layout-")
SAMPLES = os.path.join(TOP, "samples")
ARGS = ["--ca-file", os.path.join(SAMPLES, "certs", "root.pem"),
        "--keylog", os.path.join(SAMPLES, "a-grade.keylog"), SAMPLES]
CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"]
WIDTHS = (1400, 420)
HEIGHT = 900

# Runs in the report's copy once laid out; posts what it measured.
MEASURE = r"""<script>
addEventListener('load', function () {
  var W = innerWidth, H = innerHeight, m = {width: W, height: H};
  m.page_scroll_width = document.documentElement.scrollWidth;
  var h2 = document.getElementById('summary'), table = null;
  for (var e = h2 && h2.nextElementSibling; e && !table; e = e.nextElementSibling)
    table = e.tagName === 'TABLE' ? e : e.querySelector('table');
  m.summary_top = table ? table.getBoundingClientRect().top + scrollY : -1;
  m.summary_cells_right = 0;
  if (table)
    table.querySelectorAll('td').forEach(function (td) {
      m.summary_cells_right = Math.max(m.summary_cells_right, td.getBoundingClientRect().right);
    });
  var input = null;
  document.querySelectorAll('code').forEach(function (c) {
    if (!input && c.textContent === INPUT) input = c;
  });
  m.input_found = !!input;
  m.input_shown = !!input && input.getClientRects().length > 0;
  m.input_top = m.input_shown ? input.getBoundingClientRect().top + scrollY : -1;
  var addr = /^(\[[0-9a-fA-F:.]+\]|[0-9.]+):[0-9]+$/;
  var ip = /^([0-9]+(\.[0-9]+){3}|[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7})$/;
  var ja4 = /^[tqd][0-9s][0-9][di][0-9]{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/;
  m.addresses = 0; m.broken_addresses = [];
  m.ids = 0; m.broken_ids = [];
  m.clients = 0; m.broken_clients = [];
  document.querySelectorAll('code').forEach(function (c) {
    var t = c.textContent, n = c.getClientRects().length;
    if (addr.test(t)) {
      m.addresses++;
      if (n !== 1) m.broken_addresses.push(t + ' in ' + n + ' pieces');
    }
    if (ip.test(t) || ja4.test(t)) {
      m.clients++;
      if (n !== 1 && m.broken_clients.length < 5) m.broken_clients.push(t + ' in ' + n);
    }
  });
  document.querySelectorAll('a[href*="-chk-"] code, tr[id*="-chk-"] > td:nth-child(2) code')
    .forEach(function (c) {
      var n = c.getClientRects().length;
      m.ids++;
      if (n !== 1 && m.broken_ids.length < 5) m.broken_ids.push(c.textContent + ' in ' + n);
    });
  parent.postMessage(JSON.stringify(m), '*');
});
</script>"""

HARNESS = """<!DOCTYPE html><html><head><meta charset="utf-8"></head>
<body style="margin:0">%s<script>
addEventListener('message', function (e) {
  var p = document.createElement('pre'); p.className = 'measured'; p.textContent = e.data;
  document.body.appendChild(p);
});
</script></body></html>"""
FRAME = '<iframe src="measured.html" style="border:0;display:block;width:%dpx;height:%dpx"></iframe>'


def chromium(name, args):
    """A browser started with its own profile (they run at once)."""
    return subprocess.Popen(CHROMIUM + ["--user-data-dir=" + os.path.join(TMP, name)] + args,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def measuring(page, first_input):
    """The browser that measures the page at each width."""
    text = open(page, encoding="utf-8").read()
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
    script = MEASURE.replace("INPUT", json.dumps(first_input))
    text = text.replace("</body>", script + "</body>")
    with open(os.path.join(TMP, "measured.html"), "w", encoding="utf-8") as f:
        f.write(text)
    harness = os.path.join(TMP, "harness.html")
    with open(harness, "w") as f:
        f.write(HARNESS % "".join(FRAME % (w, HEIGHT) for w in WIDTHS))
    return chromium("measure", ["--window-size=%d,%d" % (max(WIDTHS), HEIGHT),
                                "--virtual-time-budget=10000",
                                "--run-all-compositor-stages-before-draw", "--dump-dom",
                                "file://" + harness])


def measured(t, proc):
    """{width: what the script measured at that width}"""
    out, err = proc.communicate(timeout=90)
    out = out.decode("utf-8", "replace")
    found = [json.loads(html.unescape(m)) for m in re.findall(r'<pre class="measured">(.*?)</pre>',
                                                               out, re.S)]
    t.eq(sorted(m["width"] for m in found), sorted(WIDTHS),
         "measured at each width: " + err.decode()[-300:])
    return {m["width"]: m for m in found}


def screenshot(page, width):
    """(the browser taking it, the file)"""
    art = os.path.join(TOP, "build", "artifacts")
    os.makedirs(art, exist_ok=True)
    shot = os.path.join(art, "html-%d.png" % width)
    if os.path.exists(shot):
        os.remove(shot)
    return chromium("shot-%d" % width, ["--window-size=%d,%d" % (width, 2 * HEIGHT),
                                        "--screenshot=" + shot, "file://" + page]), shot


def report(t):
    page = os.path.join(TMP, "report.html")
    rc, _, err = run_tlsgrade(["--format", "html", "-o", page] + ARGS)
    t.eq(rc, 0, "report written: " + err)
    rc, out, err = run_tlsgrade(["--format", "json"] + ARGS)
    t.eq(rc, 0, "JSON report: " + err)
    return page, json.loads(out)


class Prefixed:
    """A Suite whose check messages name the width."""

    def __init__(self, t, prefix):
        self.t, self.prefix = t, prefix

    def check(self, cond, what):
        return self.t.check(cond, self.prefix + what)

    def eq(self, got, want, what):
        return self.t.eq(got, want, self.prefix + what)


def layout(t, width, page, rep, measured):
    t = Prefixed(t, "%d px: " % width)
    m = measured.get(width)
    if not t.check(m, "measured at %d px" % width):
        return
    t.check(m["page_scroll_width"] <= width,
            "no sideways scroll: page %d px wide in a %d px window"
            % (m["page_scroll_width"], width))
    t.check(0 <= m["summary_cells_right"] <= width,
            "every summary cell inside the window: right edge %s" % m["summary_cells_right"])
    t.check(m["input_found"], "the first input is in the page")
    if width >= 1000:
        t.check(0 <= m["summary_top"] < HEIGHT / 2,
                "summary table starts in the upper half of the first screen: top %s"
                % m["summary_top"])
        t.check(not m["input_shown"] or m["input_top"] > m["summary_top"],
                "inputs not listed above the summary: input at %s, summary at %s"
                % (m["input_top"], m["summary_top"]))
    t.check(m["addresses"] >= len(rep["servers"]), "addresses measured: %d" % m["addresses"])
    t.eq(m["broken_addresses"][:5], [], "addresses on one line")
    t.check(m["ids"] >= len(rep["servers"]) * 40, "check ids measured: %d" % m["ids"])
    t.eq(m["broken_ids"], [], "check ids on one line")
    t.check(m["clients"] >= 2, "client addresses and JA4s measured: %d" % m["clients"])
    t.eq(m["broken_clients"], [], "client addresses and JA4s on one line")


class Findings(html.parser.HTMLParser):
    """The check ids of each summary row's key findings, in page order."""

    def __init__(self):
        super().__init__()
        self.rows, self.in_summary, self.link = [], False, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h2" and a.get("id") == "summary":
            self.in_summary = True
        elif tag == "tbody" and self.in_summary:
            self.rows = []
        elif tag == "tr" and self.in_summary:
            self.rows.append([])
        elif tag == "a" and self.in_summary and "-chk-" in a.get("href", ""):
            self.link = True
        elif tag == "section":
            self.in_summary = False

    def handle_endtag(self, tag):
        if tag == "a":
            self.link = False
        elif tag == "table":  # the summary table ends the summary's rows
            self.in_summary = False

    def handle_data(self, data):
        if self.link and data.strip():
            self.rows[-1].append(data.strip())


# grading-reference.md section 3: T and M replace any letter, caps lower
# it, a warning turns A into A-, what blocks A+ leaves A.
RANK = {l: i for i, l in enumerate(["A", "A-", "B", "C", "D", "E", "F", "M", "T"])}


def imposed(check):
    return {"trust": "T", "name": "M", "cap": check.get("cap"), "warning": "A-",
            "no_a_plus": "A"}[check["effect"]]


def findings_order(t):
    page, rep = report(t)
    f = Findings()
    f.feed(open(page, encoding="utf-8").read())
    t.eq(len(f.rows), len(rep["servers"]), "one summary row per server")
    ordered = 0
    for row, s in zip(f.rows, rep["servers"]):
        checks = {c["id"]: c for c in s["checks"]}
        # Informational failures follow the others (after "info:"); pq_kex
        # and ech are said beside the letter instead.
        want = sorted(c["id"] for c in s["checks"]
                      if c["status"] == "fail" and c["id"] not in ("pq_kex", "ech"))
        t.eq(sorted(row), want, "%s: every finding listed" % s["host"])
        effects = [checks[i]["effect"] == "info" for i in row if i in checks]
        t.eq(effects, sorted(effects), "%s: informational findings last: %s" % (s["host"], row))
        row = [i for i in row if i in checks and checks[i]["effect"] != "info"]
        letters = [RANK[imposed(checks[i])] for i in row if i in checks]
        t.eq(letters, sorted(letters, reverse=True),
             "%s %s: findings worst letter first: %s" % (s["host"], s["grade"], row))
        if s["grade"] in ("T", "M", "B", "C", "D", "E", "F") and s["caps"]:
            worst = max((RANK[c["grade"]] for c in s["caps"]))
            t.check(row and RANK[imposed(checks[row[0]])] == worst,
                    "%s: the deciding cap first: %s" % (s["host"], row))
        ordered += len(row) > 1
    t.check(ordered >= 5, "servers with several findings: %d" % ordered)


def browser(t):
    if not shutil.which("chromium"):
        t.check(False, "chromium is not installed: run make deps")
        return
    page, rep = report(t)
    shots = [screenshot(page, w) for w in WIDTHS]
    m = measured(t, measuring(page, rep["inputs"][0]))
    for proc, shot in shots:
        proc.communicate(timeout=90)
        t.check(os.path.exists(shot) and open(shot, "rb").read(8) == b"\x89PNG\r\n\x1a\n",
                "screenshot kept at " + shot)
    for w in WIDTHS:
        layout(t, w, page, rep, m)


def main():
    t = Suite()
    t.run(findings_order)
    t.run(browser)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
