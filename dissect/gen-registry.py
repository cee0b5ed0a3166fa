#!/usr/bin/env python3
"""Generate dissect/registry_data.h (the tables) and dissect/registry_ids_data.h
(the extension ids as names for code) from the IANA registries in dissect/iana/.

    python3 dissect/gen-registry.py          rewrite both files
    python3 dissect/gen-registry.py --check  exit 1 if either is out of date

Inputs (see dissect/iana/SOURCES.md for where each copy came from):
  tls-parameters-4.csv            cipher suites
  tls-parameters-8.csv            supported groups
  tls-signaturescheme.csv         signature schemes
  tls-extensiontype-values-1.csv  extension types
  tls-parameters-6.csv            alert descriptions
  supplement.txt                  hand-maintained additions, each with its source

Cipher-suite properties are derived from the IANA name
(TLS_<KX>_<AUTH>_WITH_<CIPHER>_<MAC>; TLS 1.3: TLS_<AEAD>_<HASH>).  A name
this script cannot take apart stops it: a new registration needs a decision
here, not a silent guess.  Python 3 standard library only.
"""

import csv
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
IANA_DIR = os.path.join(HERE, "iana")
OUTPUT = os.path.join(HERE, "registry_data.h")
IDS_OUTPUT = os.path.join(HERE, "registry_ids_data.h")


class GenError(Exception):
    pass


def warn(message):
    print("gen-registry: warning: " + message, file=sys.stderr)


# ---------------------------------------------------------------- reading

def read_csv(filename):
    with open(os.path.join(IANA_DIR, filename), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def parse_value(text):
    """One code point ("23", "0x0403", "0x00,0x2F"), or None for a range."""
    text = text.strip()
    if "-" in text or "*" in text:
        return None
    if "," in text:
        high, low = text.split(",")
        return int(high, 16) << 8 | int(low, 16)
    return int(text, 0)


def tidy_name(description):
    """The identifier of a registry description, None for unnamed rows."""
    name = description.strip()
    if name.startswith(("Reserved", "Unassigned")):
        return None
    name = re.sub(r'\s*\(renamed from .*\)$', "", name)
    name = re.sub(r"\s*\(OBSOLETE\)$", "", name)
    name = re.sub(r"\s*\(deprecated\)$", "_deprecated", name)
    # Alerts kept only for old versions are registered as "<name>_RESERVED".
    name = re.sub(r"_RESERVED$", "", name)
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise GenError("unexpected registry name %r" % description)
    return name


def read_registry(filename, value_column, name_column, obsolete=None):
    """{value: name}; obsolete (a set, optional) gets the values the
    registry marks "(OBSOLETE)"."""
    table = {}
    for row in read_csv(filename):
        if obsolete is not None and re.search(r"\(OBSOLETE\)\s*$", row[name_column]):
            obsolete.add(parse_value(row[value_column]))
        value = parse_value(row[value_column])
        name = tidy_name(row[name_column])
        if value is None or name is None:
            continue
        if value in table:
            raise GenError("%s: 0x%04x listed twice" % (filename, value))
        table[value] = name
    return table


def read_supplement():
    """{table: {id: name}} from supplement.txt."""
    entries = {}
    path = os.path.join(IANA_DIR, "supplement.txt")
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            fields = line.split()
            if len(fields) < 4:
                raise GenError("supplement.txt:%d: want <table> <id> <name> <source>" % number)
            table, value, name = fields[0], int(fields[1], 0), fields[2]
            if value in entries.setdefault(table, {}):
                raise GenError("supplement.txt:%d: %s 0x%x listed twice" % (number, table, value))
            entries[table][value] = name
    return entries


def merge(table_name, registry, additions):
    """Add supplement entries; a supplement may add, never contradict."""
    merged = dict(registry)
    for value, name in additions.items():
        if value not in registry:
            merged[value] = name
        elif registry[value] == name:
            warn("%s 0x%04x %s is in the IANA CSV now; drop it from supplement.txt"
                 % (table_name, value, name))
        else:
            raise GenError("supplement.txt: %s 0x%04x %s contradicts the IANA CSV (%s)"
                           % (table_name, value, name, registry[value]))
    return merged


# ---------------------------------------------------------- cipher suites

# Key exchange and authentication, by the part of the name before _WITH_
# (with any _EXPORT/_EXPORT1024 taken off).
KX_AUTH = {
    "NULL": ("NULL", "NULL"),
    "RSA": ("RSA", "RSA"),
    "RSA_FIPS": ("RSA", "RSA"),
    "RSA_OLDFIPS": ("RSA", "RSA"),
    "DH_DSS": ("DH", "DSS"),
    "DH_RSA": ("DH", "RSA"),
    "DH_anon": ("DH", "ANON"),
    "DHE_DSS": ("DHE", "DSS"),
    "DHE_RSA": ("DHE", "RSA"),
    "KRB5": ("KRB5", "KRB5"),
    "PSK": ("PSK", "PSK"),
    "DHE_PSK": ("DHE_PSK", "PSK"),
    "PSK_DHE": ("DHE_PSK", "PSK"),  # IANA's spelling for 0xC0AA/0xC0AB (RFC 6655)
    "RSA_PSK": ("RSA_PSK", "RSA"),  # RFC 4279 4: the server shows an RSA certificate
    "ECDHE_PSK": ("ECDHE_PSK", "PSK"),
    "ECDH_ECDSA": ("ECDH", "ECDSA"),
    "ECDH_RSA": ("ECDH", "RSA"),
    "ECDH_anon": ("ECDH", "ANON"),
    "ECDHE_ECDSA": ("ECDHE", "ECDSA"),
    "ECDHE_RSA": ("ECDHE", "RSA"),
    "SRP_SHA": ("SRP", "OTHER"),
    "SRP_SHA_RSA": ("SRP", "RSA"),
    "SRP_SHA_DSS": ("SRP", "DSS"),
    "ECCPWD": ("OTHER", "OTHER"),
    "ECJPAKE": ("OTHER", "OTHER"),
    "FORTEZZA_KEA": ("OTHER", "OTHER"),
    "GOSTR341094": ("GOST", "GOST"),
    "GOSTR341001": ("GOST", "GOST"),
    "GOSTR341112_256": ("GOST", "GOST"),
}

# The last token of a suite name when it names the MAC / PRF hash
# (NULL: TLS_NULL_WITH_NULL_NULL).
MAC_TOKENS = {"NULL", "MD5", "SHA", "SHA256", "SHA384", "SM3", "IMIT", "OMAC", "GOSTR3411"}

# cipher -> (key bits, CBC block bits, AEAD).  Key bits are effective:
# DES 56 (not 64), 3DES 168 (keying option 1), export variants 40 or 56.
CIPHERS = {
    "NULL": (0, 0, False),
    "RC4_40": (40, 0, False),
    "RC4_56": (56, 0, False),
    "RC4_128": (128, 0, False),
    "RC2_CBC_40": (40, 64, False),
    "RC2_CBC_56": (56, 64, False),
    "DES40_CBC": (40, 64, False),
    "DES_CBC_40": (40, 64, False),
    "DES_CBC": (56, 64, False),
    "3DES_EDE_CBC": (168, 64, False),
    "IDEA_CBC": (128, 64, False),
    "FORTEZZA_CBC": (80, 64, False),  # Skipjack: 80-bit key, 64-bit block
    "SEED_CBC": (128, 128, False),
    "CHACHA20_POLY1305": (256, 0, True),
    "SM4_GCM": (128, 0, True),
    "SM4_CCM": (128, 0, True),
    "AEGIS_128L": (128, 0, True),
    "AEGIS_256": (256, 0, True),
    # GOST: counter modes count as stream ciphers, MGM is an AEAD (RFC 9367).
    "28147_CNT": (256, 0, False),
    "KUZNYECHIK_CTR": (256, 0, False),
    "MAGMA_CTR": (256, 0, False),
    "KUZNYECHIK_MGM_L": (256, 0, True),
    "KUZNYECHIK_MGM_S": (256, 0, True),
    "MAGMA_MGM_L": (256, 0, True),
    "MAGMA_MGM_S": (256, 0, True),
}

FORWARD_SECRET_KX = {"DHE", "ECDHE", "DHE_PSK", "ECDHE_PSK", "TLS13"}


def cipher_properties(cipher, suite_name):
    if cipher in CIPHERS:
        return CIPHERS[cipher]
    match = re.fullmatch(r"(AES|CAMELLIA|ARIA)_(128|256)_(CBC|GCM|CCM|CCM_8)", cipher)
    if match:
        mode = match.group(3)
        return int(match.group(2)), (128 if mode == "CBC" else 0), mode != "CBC"
    raise GenError("%s: unknown cipher %r; add it to CIPHERS" % (suite_name, cipher))


def strip_mac(words):
    return words[:-1] if len(words) > 1 and words[-1] in MAC_TOKENS else words


def suite_info(value, name):
    """The tls_suite_info fields of one 16-bit suite, from its name."""
    info = {"id": value, "name": name, "export": False, "scsv": False}
    if not re.match(r"(TLS|SSL)_", name):
        raise GenError("0x%04x: %r is not a suite name" % (value, name))
    body = name[4:]
    body = re.sub(r"_OLD$", "", body)  # supplement: pre-RFC code points
    if body.endswith("_SCSV"):
        info.update(kx="NULL", auth="NULL", cipher="NULL", scsv=True)
    elif "_WITH_" not in body or re.search(r"_MGM_[LS]$", body):
        # TLS 1.3 (RFC 8446 B.4): the suite names only AEAD and hash.
        # RFC 9367 GOST MGM suites are TLS 1.3 despite their _WITH_.
        cipher_words = body.split("_WITH_")[-1].split("_")
        cipher = "_".join(strip_mac(cipher_words))
        if re.fullmatch(r"SHA(256|384)", cipher):  # RFC 9150 integrity-only
            cipher = "NULL"
        info.update(kx="TLS13", auth="TLS13", cipher=cipher)
    else:
        kx_part, cipher_part = body.split("_WITH_", 1)
        if re.search(r"_EXPORT(1024)?$", kx_part):
            info["export"] = True
            kx_part = re.sub(r"_EXPORT(1024)?$", "", kx_part)
        if kx_part not in KX_AUTH:
            raise GenError("0x%04x %s: unknown key exchange %r; add it to KX_AUTH"
                           % (value, name, kx_part))
        kx, auth = KX_AUTH[kx_part]
        info.update(kx=kx, auth=auth, cipher="_".join(strip_mac(cipher_part.split("_"))))
    bits, block_bits, aead = cipher_properties(info["cipher"], name)
    info.update(bits=bits, block_bits=block_bits, aead=aead)
    info["forward_secret"] = info["kx"] in FORWARD_SECRET_KX
    # No server authentication: *_anon_* suites, and TLS_NULL_WITH_NULL_NULL.
    info["anonymous"] = info["auth"] == "ANON" or (info["kx"] == "NULL" and not info["scsv"])
    if info["export"] and bits > 56:
        raise GenError("%s: export suite with %d-bit cipher" % (name, bits))
    info.update(cipher_family(info["cipher"]))
    return info


def cipher_family(cipher):
    """What graders ask of a cipher by its IANA name: RC4 (RFC 7465
    prohibits it) and CBC mode (POODLE, Lucky 13), so that no one matches
    suite names at run time."""
    return {"rc4": cipher.startswith("RC4"), "cbc": "CBC" in cipher.split("_")}


# SSL 2.0 cipher kinds (draft-hickman-netscape-ssl-00): always RSA key
# exchange; "EXPORT40" sends all but 40 bits of the key in the clear.
SSLV2_CIPHERS = {
    "RC4_128": (128, 0),
    "RC4_64": (64, 0),
    "RC2_128_CBC": (128, 64),
    "IDEA_128_CBC": (128, 64),
    "DES_64_CBC": (56, 64),
    "DES_192_EDE3_CBC": (168, 64),
}


def sslv2_info(value, name):
    match = re.fullmatch(r"SSL_CK_(\w+?)(_EXPORT40)?_WITH_MD5", name)
    if not match or match.group(1) not in SSLV2_CIPHERS:
        raise GenError("sslv2 0x%06x: cannot take %r apart" % (value, name))
    bits, block_bits = SSLV2_CIPHERS[match.group(1)]
    export = match.group(2) is not None
    return {"id": value, "name": name, "kx": "RSA", "auth": "RSA",
            "cipher": match.group(1) + (match.group(2) or ""),
            "bits": 40 if export else bits, "block_bits": block_bits, "aead": False,
            "forward_secret": False, "export": export, "anonymous": False, "scsv": False,
            **cipher_family(match.group(1))}


# ----------------------------------------------------------------- groups

# Pure ML-KEM has no classical part; it is scored like the elliptic curve of
# the same NIST security category (FIPS 203: 512 -> 1, 768 -> 3, 1024 -> 5).
MLKEM_EQUIVALENT = {"MLKEM512": 256, "MLKEM768": 384, "MLKEM1024": 521}
# Hybrids count their classical component.
HYBRID_PREFIXES = (("X25519", 256), ("SecP256r1", 256), ("SecP384r1", 384))


def group_bits(name):
    """Classical strength for key-exchange scoring: the curve's field size
    (x25519 256, x448 448, brainpoolP256r1 256, ...), the FFDHE modulus size,
    the classical part of a hybrid; 0 when there is nothing to score."""
    fixed = {"x25519": 256, "x448": 448, "curveSM2": 256}
    if name in fixed:
        return fixed[name]
    if name in MLKEM_EQUIVALENT:
        return MLKEM_EQUIVALENT[name]
    match = re.fullmatch(r"(?:sect|secp|brainpoolP|ffdhe)(\d+)\w*", name)
    if match:
        return int(match.group(1))
    match = re.fullmatch(r"GC(256|512)[A-D]", name)  # RFC 9189 GOST curves
    if match:
        return int(match.group(1))
    for prefix, bits in HYBRID_PREFIXES:
        if name.startswith(prefix) and ("MLKEM" in name or "Kyber" in name):
            return bits
    if name.startswith("arbitrary_explicit_"):
        return 0
    warn("group %s: no strength rule, bits 0" % name)
    return 0


def group_pq(value, name, obsolete):
    """TLS_GROUP_*: a key exchange built on ML-KEM (FIPS 203), alone or in a
    hybrid, or on its pre-standard Kyber; the registry's "(OBSOLETE)" mark
    (X25519Kyber768Draft00, SecP256r1Kyber768Draft00) says it is retired."""
    if "MLKEM" not in name and "Kyber" not in name:
        return "TLS_GROUP_CLASSICAL"
    return "TLS_GROUP_PQ_OBSOLETE" if value in obsolete else "TLS_GROUP_PQ"


# ------------------------------------------------------- signature schemes

def tls12_pairs(supplement):
    """RFC 5246 7.4.1.4.1 hash/signature pairs, named like RFC 8446 does
    for the two it kept (rsa_pkcs1_sha1, ecdsa_sha1)."""
    pairs = {}
    for hash_id, hash_name in supplement.get("tls12hash", {}).items():
        for sig_id, sig_name in supplement.get("tls12sig", {}).items():
            prefix = "rsa_pkcs1" if sig_name == "rsa" else sig_name
            pairs[hash_id << 8 | sig_id] = "%s_%s" % (prefix, hash_name)
    return pairs


# ----------------------------------------------------------------- output

def c_bool(flag):
    return "true" if flag else "false"


def suite_line(info, id_digits):
    return ("  {0x%0*x, \"%s\", TLS_KX_%s, TLS_AUTH_%s, \"%s\", %d, %d, %s, %s, %s, %s, %s, %s, %s},"
            % (id_digits, info["id"], info["name"], info["kx"], info["auth"], info["cipher"],
               info["bits"], info["block_bits"], c_bool(info["aead"]),
               c_bool(info["forward_secret"]), c_bool(info["export"]),
               c_bool(info["anonymous"]), c_bool(info["scsv"]), c_bool(info["rc4"]),
               c_bool(info["cbc"])))


def emit_table(lines, c_type, c_name, comment, rows):
    lines.append("/* %s */" % comment)
    lines.append("static const %s %s[] = {" % (c_type, c_name))
    lines.extend(rows)
    lines.append("};")
    lines.append("")


def render(tables):
    lines = [
        "/*",
        " * dissect/registry_data.h - GENERATED by dissect/gen-registry.py from the",
        " * IANA registries in dissect/iana/ (SOURCES.md says where each came from)",
        " * and dissect/iana/supplement.txt.  Do not edit: change the inputs or the",
        " * generator and rerun it.  Included only by dissect/registry.c and its",
        " * unit test.  Every table is sorted by id, strictly ascending.",
        " */",
        "#ifndef TLSGRADE_REGISTRY_DATA_H",
        "#define TLSGRADE_REGISTRY_DATA_H",
        "",
        '#include "dissect/dissect.h"',
        "",
        "#include <stdbool.h>",
        "#include <stdint.h>",
        "",
        "/* `id` is the first member of every table entry (struct tls_suite_info",
        " * too), so one comparison function serves every lookup. */",
        "struct registry_name {",
        "  uint32_t id;",
        "  const char *name;",
        "};",
        "",
        "struct registry_group {",
        "  uint32_t id;",
        "  const char *name;",
        "  uint16_t bits; /* classical strength, see gen-registry.py group_bits() */",
        "  uint8_t pq;    /* enum tls_group_pq, see gen-registry.py group_pq() */",
        "};",
        "",
        "// clang-format off",
        "",
    ]
    suite_comment = ("%d cipher suites: id, name, kx, auth, cipher, bits, block_bits, "
                     "aead, forward_secret, export_grade, anonymous, scsv, rc4, cbc")
    emit_table(lines, "struct tls_suite_info", "registry_suites",
               suite_comment % len(tables["suite"]),
               [suite_line(info, 4) for info in tables["suite"]])
    emit_table(lines, "struct tls_suite_info", "registry_sslv2_suites",
               "%d SSL 2.0 cipher kinds (24-bit)" % len(tables["sslv2"]),
               [suite_line(info, 6) for info in tables["sslv2"]])
    emit_table(lines, "struct registry_group", "registry_groups",
               "%d supported groups: id, name, bits, pq" % len(tables["group"]),
               ['  {0x%04x, "%s", %d, %s},' % row for row in tables["group"]])
    for key, c_name, what in (("sigscheme", "registry_sigschemes", "signature schemes"),
                              ("extension", "registry_extensions", "extension types"),
                              ("alert", "registry_alerts", "alert descriptions")):
        emit_table(lines, "struct registry_name", c_name,
                   "%d %s" % (len(tables[key]), what),
                   ['  {0x%04x, "%s"},' % row for row in tables[key]])
    lines += ["// clang-format on", "", "#endif", ""]
    return "\n".join(lines)


def render_extension_ids(tables):
    """The extension table again, as an enum: the code's names for the ids."""
    lines = [
        "/*",
        " * dissect/registry_ids_data.h - GENERATED by dissect/gen-registry.py from",
        " * the same inputs as registry_data.h: the extension types as names for",
        " * code (TLS_EXT_ + the registry's name).  Do not edit.  Private to dissect/.",
        " */",
        "#ifndef TLSGRADE_REGISTRY_IDS_DATA_H",
        "#define TLSGRADE_REGISTRY_IDS_DATA_H",
        "",
        "enum tls_extension_id {",
    ]
    seen = set()
    for value, name in tables["extension"]:
        ident = "TLS_EXT_" + re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper()
        if ident in seen:
            raise GenError("extension name %r gives %s twice" % (name, ident))
        seen.add(ident)
        lines.append("  %s = 0x%04x," % (ident, value))
    lines += ["};", "", "#endif", ""]
    return "\n".join(lines)


def build_tables():
    supplement = read_supplement()
    known = {"suite", "sslv2", "group", "sigscheme", "extension", "alert",
             "tls12hash", "tls12sig"}
    for table in supplement:
        if table not in known:
            raise GenError("supplement.txt: unknown table %r" % table)

    suites = merge("suite", read_registry("tls-parameters-4.csv", "Value", "Description"),
                   supplement.get("suite", {}))
    obsolete_groups = set()
    groups = merge("group", read_registry("tls-parameters-8.csv", "Value", "Description",
                                          obsolete_groups),
                   supplement.get("group", {}))
    sigschemes = merge("sigscheme",
                       read_registry("tls-signaturescheme.csv", "Value", "Description"),
                       supplement.get("sigscheme", {}))
    for value, name in tls12_pairs(supplement).items():
        sigschemes.setdefault(value, name)  # the registry's own name wins
    extensions = merge("extension",
                       read_registry("tls-extensiontype-values-1.csv", "Value",
                                     "Extension Name"),
                       supplement.get("extension", {}))
    alerts = merge("alert", read_registry("tls-parameters-6.csv", "Value", "Description"),
                   supplement.get("alert", {}))

    tables = {
        "suite": [suite_info(v, n) for v, n in sorted(suites.items())],
        "sslv2": [sslv2_info(v, n) for v, n in sorted(supplement.get("sslv2", {}).items())],
        "group": [(v, n, group_bits(n), group_pq(v, n, obsolete_groups))
                  for v, n in sorted(groups.items())],
        "sigscheme": sorted(sigschemes.items()),
        "extension": sorted(extensions.items()),
        "alert": sorted(alerts.items()),
    }
    for key, limit in (("suite", 0xFFFF), ("group", 0xFFFF), ("sigscheme", 0xFFFF),
                       ("extension", 0xFFFF), ("alert", 0xFF), ("sslv2", 0xFFFFFF)):
        for row in tables[key]:
            value = row["id"] if isinstance(row, dict) else row[0]
            if value > limit:
                raise GenError("%s 0x%x does not fit its field" % (key, value))
    return tables


def main(argv):
    check = argv[1:] == ["--check"]
    if argv[1:] and not check:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        tables = build_tables()
        outputs = ((OUTPUT, render(tables)), (IDS_OUTPUT, render_extension_ids(tables)))
    except (GenError, OSError, ValueError, KeyError) as error:
        print("gen-registry: " + str(error), file=sys.stderr)
        return 1
    for path, text in outputs:
        if check:
            try:
                with open(path, encoding="utf-8") as f:
                    current = f.read()
            except OSError:
                current = None
            if current != text:
                print("gen-registry: %s is out of date; run dissect/gen-registry.py" % path,
                      file=sys.stderr)
                return 1
            continue
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
