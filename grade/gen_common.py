"""What grade/'s table generators share (gen-distrust.py, gen-ct-logs.py,
gen-profiles.py): the error a bad row raises, C string literals, and
writing or checking the generated header.  Python 3 standard library only."""

import os
import sys


class GenError(Exception):
    pass


def c_string(text):
    if any(ord(ch) < 0x20 or ord(ch) > 0x7E for ch in text):
        raise GenError("only printable ASCII is allowed: %r" % text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_or_check(name, make_text, output, argv):
    """Write make_text() to output, or with --check say whether output
    holds it already.  Returns the exit status; a GenError is said on
    stderr, prefixed with name."""
    try:
        text = make_text()
    except GenError as e:
        print("%s: %s" % (name, e), file=sys.stderr)
        return 1
    if argv[1:2] == ["--check"]:
        current = open(output).read() if os.path.exists(output) else ""
        if current != text:
            print("%s: %s is out of date; run python3 grade/%s.py" % (name, output, name),
                  file=sys.stderr)
            return 1
        return 0
    with open(output, "w") as f:
        f.write(text)
    return 0
