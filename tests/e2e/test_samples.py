"""Every bundled sample grades as samples/expected.json says.

expected.json was derived by hand from the grading reference for the
configuration that made each sample (samples/make-samples.sh, craft.py);
it is never regenerated from tlsgrade's output.  For every server: the
letter, the letter with trust ignored where T/M apply, every required cap
and warning (by the reference's id), and no unexpected cap; where
expected.json says (beyond_2009r), the status of checks reported beside
the letter (pq_kex, ech)."""
import json
import os

from oracle import TOP, Suite, run_tlsgrade

SAMPLES = os.path.join(TOP, "samples")
CA = os.path.join(SAMPLES, "certs", "root.pem")

# Checks that change the letter (caps, T, M, warnings): anything else that
# fails is informational and not compared.
GRADING_EFFECTS = {"cap", "trust", "name", "warning"}


def report():
    rc, out, err = run_tlsgrade(["--format", "json", "--ca-file", CA, SAMPLES], timeout=300)
    return rc, json.loads(out) if out else {"servers": []}, err


def compare(t, server, ours):
    what = "%s %s:%s" % (server["sni"], server["ip"], server["port"])
    t.eq(ours["grade"], server["grade"], what + " grade (%s)" % server.get("reason", ""))
    if server.get("grade_trust_ignored"):
        t.eq(ours["grade_trust_ignored"], server["grade_trust_ignored"],
             what + " grade with trust ignored")
    failed = {c["id"] for c in ours["checks"]
              if c["status"] == "fail" and c["effect"] in GRADING_EFFECTS}
    required = {c["id"] for c in server["caps"]} | {w["id"] for w in server["warnings"]}
    optional = {c["id"] for c in server.get("caps_optional", [])}
    t.eq(sorted(required - failed), [], what + " required caps and warnings missing")
    t.eq(sorted(failed - required - optional), [], what + " unexpected caps or warnings")
    status = {c["id"]: c["status"] for c in ours["checks"]}
    for check_id, want in server.get("beyond_2009r", {}).items():
        t.eq(status.get(check_id), want, what + " " + check_id + " (beside the letter)")


def main():
    t = Suite()
    rc, doc, err = report()
    t.check(rc == 0, "exit status %d: %s" % (rc, err[-300:]))
    ours = {(s["host"], s["ip"], s["port"]): s for s in doc["servers"]}
    expected = json.load(open(os.path.join(SAMPLES, "expected.json")))
    seen = set()
    for sample in expected["samples"]:
        for server in sample["servers"]:
            key = (server["sni"], server["ip"], server["port"])
            seen.add(key)
            if not t.check(key in ours, "%s: server %r graded" % (sample["file"], key)):
                continue
            t.run(compare, server, ours[key])
    t.eq(sorted(set(ours) - seen), [], "servers graded that expected.json does not list")
    t.done()


main()
