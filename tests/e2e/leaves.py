"""Certificates for tests: the samples' certificates as DER, and leaves
signed by the samples' intermediate with the validity a test chooses
(`openssl ca -startdate/-enddate`) and any extension it adds."""
import os
import subprocess

from oracle import TOP

CERTS = os.path.join(TOP, "samples", "certs")


def sample_der(name):
    """samples/certs/NAME (PEM) as DER."""
    return subprocess.run(["openssl", "x509", "-in", os.path.join(CERTS, name), "-outform", "DER"],
                          check=True, capture_output=True).stdout


def _stamp(epoch):
    return subprocess.run(["date", "-u", "-d", "@%d" % epoch, "+%Y%m%d%H%M%SZ"],
                          capture_output=True, text=True, check=True).stdout.strip()


def issue_leaf(workdir, name, start, seconds, extensions=""):
    """A leaf for NAME.example.test (CN and dNSName), signed by
    samples/certs/int.pem, valid from the epoch second `start` for `seconds`
    (inclusive: notAfter is start + seconds - 1); `extensions` are more
    lines of openssl's extension section (e.g. an OID=DER:hex).  Returns
    its DER; the files stay in workdir/NAME."""
    d = os.path.join(workdir, name)
    os.makedirs(d)
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("1000\n")
    conf = os.path.join(d, "ca.cnf")
    with open(conf, "w") as f:
        f.write("[ca]\ndefault_ca=d\n[d]\ndir=%s\ndatabase=$dir/index.txt\nserial=$dir/serial\n"
                "new_certs_dir=$dir\ndefault_md=sha256\npolicy=p\nunique_subject=no\n"
                "x509_extensions=e\n[p]\ncommonName=supplied\n[e]\n"
                "subjectAltName=DNS:%s.example.test\n%s" % (d, name, extensions))
    key, csr, pem = (os.path.join(d, x) for x in ("k.pem", "r.csr", "c.pem"))
    subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-subj", "/CN=%s.example.test" % name, "-out", csr],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "ca", "-batch", "-config", conf, "-cert",
                    os.path.join(CERTS, "int.pem"), "-keyfile", os.path.join(CERTS, "int.key"),
                    "-startdate", _stamp(start), "-enddate", _stamp(start + seconds - 1),
                    "-in", csr, "-out", pem, "-notext"], check=True, capture_output=True)
    return subprocess.run(["openssl", "x509", "-in", pem, "-outform", "DER"],
                          check=True, capture_output=True).stdout
