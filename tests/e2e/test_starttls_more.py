"""STARTTLS for protocols the corpus lacks: NNTP (RFC 4642) and ManageSieve
(RFC 5804), crafted from the RFCs' own example dialogues, and the switch
point found after the server's positive answer."""
import json
import os
import shutil
import tempfile

from oracle import Suite, run_tlsgrade
from pcapgen import Conversation, client_hello, server_hello, write_pcap

TMP = tempfile.mkdtemp(prefix="tlsgrade-starttls-")

DIALOGUES = {
    # RFC 4642 3 (example): 200 greeting, STARTTLS, 382 then TLS.
    "nntp": (119, [("s", b"200 news.example.com InterNetNews server ready\r\n"),
                   ("c", b"STARTTLS\r\n"),
                   ("s", b"382 Continue with TLS negotiation\r\n")]),
    # RFC 5804 2.2 (example): capabilities, STARTTLS, OK then TLS.
    "sieve": (4190, [("s", b'"IMPLEMENTATION" "Example1 ManageSieved v001"\r\n'
                           b'"SIEVE" "fileinto vacation"\r\n"STARTTLS"\r\nOK\r\n'),
                     ("c", b"STARTTLS\r\n"),
                     ("s", b'OK "Begin TLS negotiation now"\r\n')]),
}


def starttls(t, proto):
    port, dialogue = DIALOGUES[proto]
    conv = Conversation("10.6.6.100", 51500, "10.6.6.6", port)
    conv.handshake()
    for who, line in dialogue:
        (conv.server_sends if who == "s" else conv.client_sends)(line)
    conv.client_sends(client_hello(sni=b"mail.example.com", ciphers=(0xc02f, 0xc030)))
    conv.server_sends(server_hello(cipher=0xc030))
    pcap = os.path.join(TMP, proto + ".pcap")
    write_pcap(pcap, conv.frames)
    rc, out, err = run_tlsgrade(["--handshakes", "--no-ndpi", pcap])
    t.eq(rc, 0, "exit status: " + err)
    lines = [json.loads(l) for l in out.splitlines()]
    t.eq(len(lines), 1, "one TLS connection")
    if lines:
        o = lines[0]
        t.eq(o.get("starttls"), proto, "the protocol that switched to TLS")
        t.eq(o.get("sni"), "mail.example.com", "the hello after the switch is read")
        t.eq(o.get("cipher_id"), 0xc030, "the server's answer is read")
        t.eq(o.get("frames", {}).get("client_hello"), 4 + len(dialogue), "frame of the hello")


def main():
    t = Suite()
    for proto in sorted(DIALOGUES):
        t.run(starttls, proto)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
