#!/usr/bin/env python3
"""
gen_transcript.py: a fixed-key transcript of the warren protocol, computed
from docs/PROTOCOL.md and the Noise specification (revision 34) alone,
with Python's `cryptography` package (X25519, AES-256-GCM) and the
standard library (SHA-256, HMAC).  It uses nothing of warren's code.

    python3 tests/vectors/gen_transcript.py            # writes transcript.txt
    python3 tests/vectors/gen_transcript.py --markdown # PROTOCOL.md appendix

tests/vectors/transcript.txt is what tests/unit/test_transcript.c checks
the C code against.  Run this once by hand when the protocol changes; it
is not run by the tests.
"""

import hashlib
import hmac
import os
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives import serialization

# ---------------------------------------------------------------------------
# Primitives (PROTOCOL.md section 3)


def sha256(*parts):
    return hashlib.sha256(b"".join(parts)).digest()


def hmac256(key, *parts):
    return hmac.new(key, b"".join(parts), hashlib.sha256).digest()


def hkdf(ck, ikm, n):
    """Noise HKDF (section 3.3): n outputs of 32 bytes."""
    temp = hmac256(ck, ikm)
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = hmac256(temp, prev, bytes([i]))
        out.append(prev)
    return out


def nonce12(n):
    """AES-GCM nonce: 4 zero bytes, then the counter as u64 big-endian."""
    return b"\0" * 4 + struct.pack(">Q", n)


def seal(key, n, ad, pt):
    return AESGCM(key).encrypt(nonce12(n), pt, ad)


def clamp(k):
    k = bytearray(k)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    return bytes(k)


def x25519_pub(priv):
    return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def dh(priv, pub):
    out = X25519PrivateKey.from_private_bytes(priv).exchange(
        X25519PublicKey.from_public_bytes(pub))
    assert out != b"\0" * 32
    return out


def tai64n(sec, nsec):
    """Standard TAI64N label (section 4.9): 2^62 + 10 + Unix seconds."""
    return struct.pack(">QI", (1 << 62) + 10 + sec, nsec)


def mapped4(a, b, c, d):
    """An IPv4 address as 16 bytes, ::ffff:a.b.c.d (section 6.1)."""
    return b"\0" * 10 + b"\xff\xff" + bytes([a, b, c, d])

# ---------------------------------------------------------------------------
# Noise IKpsk2 symmetric state (Noise sections 5.1, 5.2, 9.2 and 12)


class Sym:
    def __init__(self, name):
        assert len(name) == 32     # == HASHLEN: h = name, no padding
        self.h = name
        self.ck = name
        self.k = None
        self.n = 0

    def mix_hash(self, data):
        self.h = sha256(self.h, data)

    def mix_key(self, ikm):
        self.ck, self.k = hkdf(self.ck, ikm, 2)
        self.n = 0

    def mix_key_and_hash(self, ikm):
        self.ck, temp_h, self.k = hkdf(self.ck, ikm, 3)
        self.mix_hash(temp_h)
        self.n = 0

    def encrypt_and_hash(self, pt):
        ct = seal(self.k, self.n, self.h, pt)
        self.n += 1
        self.mix_hash(ct)
        return ct

    def split(self):
        return hkdf(self.ck, b"", 2)

# ---------------------------------------------------------------------------
# The fixed inputs.  Keys are SHA-256 of a label, clamped as `warren genkey`
# makes them (section 3.1).


def key(label):
    return clamp(sha256(b"warren transcript " + label))


NODE_S = key(b"node static")
CLIENT_S = key(b"client static")
CLIENT_E = key(b"client ephemeral")
NODE_E = key(b"node ephemeral")
PSK = sha256(b"warren transcript psk")
UNIX_SEC, UNIX_NSEC = 1700000000, 123456789
CLIENT_INDEX = 0x11223344
NODE_INDEX = 0x55667788
SERVICE = b"echo"
CLIENT_ADDR = mapped4(192, 0, 2, 10)
CLIENT_PORT = 40123
SESSION_ID = bytes(range(0xa0, 0xb0))
DECOY = 0xdeadbeef
WINDOW = UNIX_SEC // 60                     # section 6.2
GRANT_TIMEOUT, KEEPALIVE = 10, 10
PORT_LO, PORT_HI = 40000, 49999
COOKIE_SECRET = sha256(b"warren transcript cookie secret")
COOKIE_EPOCH = bytes.fromhex("0102030405060708")
COOKIE_NONCE = 3
HELLO_WINDOW = 8388608                      # 8 MiB, both ways
DATA = b"hello, warren\n"

PROLOGUE = b"warren/1"
PROTOCOL = b"Noise_IKpsk2_25519_AESGCM_SHA256"


def transcript():
    v = []                       # (name, bytes), in order

    def out(name, value):
        v.append((name, value))
        return value

    node_pub = x25519_pub(NODE_S)
    client_pub = x25519_pub(CLIENT_S)
    ce_pub = x25519_pub(CLIENT_E)
    ne_pub = x25519_pub(NODE_E)
    out("node_static_priv", NODE_S)
    out("node_static_pub", node_pub)
    out("client_static_priv", CLIENT_S)
    out("client_static_pub", client_pub)
    out("client_ephemeral_priv", CLIENT_E)
    out("client_ephemeral_pub", ce_pub)
    out("node_ephemeral_priv", NODE_E)
    out("node_ephemeral_pub", ne_pub)
    out("psk", PSK)
    ts = out("timestamp", tai64n(UNIX_SEC, UNIX_NSEC))
    out("client_index", struct.pack(">I", CLIENT_INDEX))
    out("node_index", struct.pack(">I", NODE_INDEX))

    # INIT payload (section 4.4).
    init_payload = out("init_payload", ts + bytes([len(SERVICE)]) + b"\0" * 3
                       + SERVICE.ljust(32, b"\0"))
    assert len(init_payload) == 48

    # Message 1: -> e, es, s, ss (section 3.2; the e token also does
    # MixKey(e.pub) because the pattern has a psk modifier).
    hs = Sym(PROTOCOL)
    hs.mix_hash(PROLOGUE)
    hs.mix_hash(node_pub)                  # pre-message <- s
    msg1 = ce_pub
    hs.mix_hash(ce_pub)
    hs.mix_key(ce_pub)
    hs.mix_key(dh(CLIENT_E, node_pub))     # es
    msg1 += hs.encrypt_and_hash(client_pub)
    hs.mix_key(dh(CLIENT_S, node_pub))     # ss
    msg1 += hs.encrypt_and_hash(init_payload)
    assert len(msg1) == 144
    out("ck_after_msg1", hs.ck)
    out("h_after_msg1", hs.h)

    # Grant key (section 3.4): out1 of HKDF(ck, "warren grant").
    grant_key = out("grant_key", hkdf(hs.ck, b"warren grant", 1)[0])

    # INIT packet (section 4.1), mac1 (section 4.3).
    mac1_key_node = sha256(b"mac1----", node_pub)
    out("mac1_key_node", mac1_key_node)
    init = bytes([1, 1, 0, 0]) + struct.pack(">I", CLIENT_INDEX) + msg1
    init_mac1 = out("init_mac1", hmac256(mac1_key_node, init)[:16])
    init += init_mac1 + b"\0" * 16
    assert len(init) == 184
    out("init", init)

    # COOKIE (section 4.8) for the INIT, from 192.0.2.10:40123.
    cookie = out("cookie", hmac256(COOKIE_SECRET, CLIENT_ADDR,
                                   struct.pack(">H", CLIENT_PORT))[:16])
    out("cookie_secret", COOKIE_SECRET)
    out("cookie_epoch", COOKIE_EPOCH)
    out("cookie_nonce", struct.pack(">Q", COOKIE_NONCE))
    seal_base = sha256(b"cookie--", node_pub)
    seal_key = out("cookie_seal_key", hmac256(seal_base, COOKIE_EPOCH))
    sealed = seal(seal_key, COOKIE_NONCE, init_mac1, cookie)
    cookie_pkt = (bytes([3, 1, 0, 0]) + struct.pack(">I", CLIENT_INDEX) +
                  COOKIE_EPOCH + struct.pack(">Q", COOKIE_NONCE) + sealed)
    assert len(cookie_pkt) == 56
    out("cookie_packet", cookie_pkt)

    # The same INIT with a mac2 under that cookie (section 4.3).
    init_mac2 = out("init_mac2", hmac256(cookie, init[:168])[:16])
    out("init_with_mac2", init[:168] + init_mac2)

    # RESP payload (section 4.5).
    resp_payload = (bytes([0, 0]) + struct.pack(">H", CLIENT_PORT) +
                    CLIENT_ADDR + SESSION_ID +
                    struct.pack(">IIHHHHQ", DECOY, WINDOW, GRANT_TIMEOUT,
                                KEEPALIVE, PORT_LO, PORT_HI, 0) + b"\0" * 4)
    assert len(resp_payload) == 64
    out("resp_payload", resp_payload)

    # Message 2: <- e, ee, se, psk.
    msg2 = ne_pub
    hs.mix_hash(ne_pub)
    hs.mix_key(ne_pub)                     # psk mode
    hs.mix_key(dh(NODE_E, ce_pub))         # ee
    hs.mix_key(dh(NODE_E, client_pub))     # se: client's s, node's e
    hs.mix_key_and_hash(PSK)               # psk
    msg2 += hs.encrypt_and_hash(resp_payload)
    assert len(msg2) == 112
    out("h_after_msg2", hs.h)

    # RESP packet (section 4.2).
    mac1_key_client = sha256(b"mac1----", client_pub)
    out("mac1_key_client", mac1_key_client)
    resp = (bytes([2, 1, 0, 0]) + struct.pack(">II", NODE_INDEX, CLIENT_INDEX)
            + msg2)
    resp_mac1 = out("resp_mac1", hmac256(mac1_key_client, resp)[:16])
    resp += resp_mac1 + b"\0" * 16
    assert len(resp) == 156
    out("resp", resp)

    # Session keys: Split() (section 3.4).
    key_c2s, key_s2c = hs.split()
    out("key_c2s", key_c2s)
    out("key_s2c", key_s2c)

    # The grant port (section 6.1).
    mac = hmac256(grant_key, b"warren port", struct.pack(">II", DECOY, WINDOW),
                  CLIENT_ADDR)
    port = PORT_LO + int.from_bytes(mac[:8], "big") % (PORT_HI - PORT_LO + 1)
    out("grant_port", struct.pack(">H", port))

    # Carrier records (section 7): frame = len u32 || AEAD(key, nonce,
    # ad = len, header || body).  HELLO body (section 7.4): session_id[16],
    # carrier u32, window u32, received u64: 32 bytes.
    def record(k, n, rtype, seq, ack, body):
        pt = bytes([rtype, 0, 0, 0, 0, 0, 0, 0]) + struct.pack(">QQ", seq,
                                                              ack) + body
        ln = struct.pack(">I", len(pt) + 16)
        return ln + seal(k, n, ln, pt)

    hello_body = SESSION_ID + struct.pack(">IIQ", 0, HELLO_WINDOW, 0)
    out("hello_body", hello_body)
    out("rec_client_hello", record(key_c2s, 0, 1, 0, 0, hello_body))
    out("rec_node_hello", record(key_s2c, 0, 1, 0, 0, hello_body))
    out("data", DATA)
    out("rec_client_data", record(key_c2s, 1, 2, 0, 0, DATA))
    out("rec_node_ack", record(key_s2c, 1, 3, 0, len(DATA), b""))
    return v


def main():
    v = transcript()
    if "--markdown" in sys.argv[1:]:
        for name, value in v:
            print("    %-22s %s" % (name, wrap(value.hex())))
        return
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "transcript.txt"), "w") as f:
        f.write("# warren protocol transcript (docs/PROTOCOL.md appendix A)\n")
        f.write("# written by tests/vectors/gen_transcript.py; do not edit\n")
        for name, value in v:
            f.write("%s = %s\n" % (name, value.hex()))


def wrap(h):
    """Hex in lines of 64 digits, continued under the first."""
    lines = [h[i:i + 64] for i in range(0, len(h), 64)] or [""]
    return ("\n" + " " * 27).join(lines)


if __name__ == "__main__":
    main()
