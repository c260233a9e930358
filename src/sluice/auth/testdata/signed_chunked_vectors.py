#!/usr/bin/env python3
"""Signed aws-chunked test vectors, built independently of the C++ decoder.

Prints JSON: a list of cases, each a STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] body signed
with Python's hmac/hashlib following the AWS chunked-upload procedure:
  chunk signature   = HMAC(key, "AWS4-HMAC-SHA256-PAYLOAD\\n" date "\\n" scope "\\n" prev "\\n"
                               sha256("") "\\n" sha256(chunk))
  trailer signature = HMAC(key, "AWS4-HMAC-SHA256-TRAILER\\n" date "\\n" scope "\\n" prev "\\n"
                               sha256("name:value\\n" for each trailer))
Deterministic (fixed random seed), so a failure reproduces.
"""
import base64
import hashlib
import hmac
import json
import random
import zlib

SECRET = "sluice/test/secret/key/0000000000000000000"
DATE = "20261127T013439Z"
REGION = "us-east-1"
SCOPE = DATE[:8] + "/" + REGION + "/s3/aws4_request"
EMPTY = hashlib.sha256(b"").hexdigest()


def signing_key():
    k = hmac.new(("AWS4" + SECRET).encode(), DATE[:8].encode(), hashlib.sha256).digest()
    for part in (REGION, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def sign(key, sts):
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


def build(rng, sizes, trailer, upper_hex):
    key = signing_key()
    seed = "%064x" % rng.getrandbits(256)
    prev = seed
    payload = bytes(rng.getrandbits(8) for _ in range(sum(sizes)))
    body = b""
    pos = 0
    for size in sizes + [0]:
        data = payload[pos:pos + size]
        pos += size
        sig = sign(key, "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", DATE, SCOPE, prev, EMPTY,
                                   hashlib.sha256(data).hexdigest()]))
        size_hex = ("%X" if upper_hex else "%x") % size
        body += ("%s;chunk-signature=%s\r\n" % (size_hex, sig)).encode() + data
        if size:
            body += b"\r\n"
        prev = sig
    trailers = []
    if trailer:
        crc = base64.b64encode((zlib.crc32(payload) & 0xFFFFFFFF).to_bytes(4, "big")).decode()
        trailers = [["x-amz-checksum-crc32", crc]]
        block = "".join("%s:%s\n" % (n, v) for n, v in trailers)
        tsig = sign(key, "\n".join(["AWS4-HMAC-SHA256-TRAILER", DATE, SCOPE, prev,
                                    hashlib.sha256(block.encode()).hexdigest()]))
        for n, v in trailers:
            body += ("%s:%s\r\n" % (n, v)).encode()
        body += ("x-amz-trailer-signature:%s\r\n" % tsig).encode()
    body += b"\r\n"
    return {
        "mode": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailer else ""),
        "amz_date": DATE,
        "region": REGION,
        "seed": seed,
        "chunk_sizes": sizes,
        "body_b64": base64.b64encode(body).decode(),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "trailers": trailers,
    }


def main():
    rng = random.Random(20261127)
    shapes = [[], [1], [17, 5], [64, 64, 3], [300], [8, 1, 200, 2]]
    cases = []
    for i, sizes in enumerate(shapes):
        for trailer in (False, True):
            cases.append(build(rng, sizes, trailer, upper_hex=(i % 2 == 1)))
    print(json.dumps(cases))


if __name__ == "__main__":
    main()
