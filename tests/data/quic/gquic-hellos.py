"""tests/data/quic/gquic-hellos.py - the TLS 1.3 hellos that make-gquic.c
puts in Google QUIC Initials: two lines of hex, the ClientHello (SNI
gquic.example.test, ALPN h3-T051, TLS 1.3 only, x25519) and the ServerHello
(TLS_AES_128_GCM_SHA256, x25519), as handshake messages without the record
header (QUIC carries no records, RFC 9001 4)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "e2e"))
from pcapgen import client_hello, server_hello  # noqa: E402

ch = client_hello(sni=b"gquic.example.test", alpn=(b"h3-T051",), ciphers=(0x1301, 0x1302),
                  groups=(0x001d,), versions=(0x0304,), key_shares=(0x001d,),
                  sig_algs=(0x0804, 0x0403))
sh = server_hello(cipher=0x1301, selected_version=0x0304, key_share=0x001d)
print(ch[5:].hex())
print(sh[5:].hex())
