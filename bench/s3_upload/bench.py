#!/usr/bin/env python3
"""S3 upload benchmark: sluice's PutObject against nginx's WebDAV PUT of the same bytes to disk,
side by side in one run, on loopback.

Cases: sequential uploads of 1 MiB, 64 MiB and 1 GiB objects (sluice with UNSIGNED-PAYLOAD and
with a hex-signed payload, whose SHA-256 the server verifies), and 64 KiB objects from 32
concurrent clients (requests/s). The load generator is curl (C, keep-alive, `--parallel` for
the concurrent case) with `--aws-sigv4`, the same client for both servers; the hex payload hash
is computed before the clock starts, as a client that knows its file's hash would. Each case
runs in alternating rounds and keeps each server's best round.

Note the two servers do not promise the same thing: sluice answers only after fdatasync and a
ledger commit; nginx answers after write(2). nginx is the ceiling, not a peer.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import sluice_bench  # noqa: E402
from sluice_bench import wait_for  # noqa: E402

MIB = 1024 * 1024


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sluice(sluice_bench.Sluice):
    def __init__(self, binary, directory):
        super().__init__(binary, os.path.join(directory, "sluice-data"),
                         log=os.path.join(directory, "sluice.log"))

    def start(self):
        super().start()
        self.user = f"{self.conn['access_key_id']}:{self.conn['secret_access_key']}"
        # Benchmark objects are not parquet: store them without loading them.
        for policy in ("store", "hold"):
            if subprocess.run([self.binary, "--data-dir", self.data, "connection", "set-unconfigured",
                               self.bucket, policy], capture_output=True).returncode == 0:
                self.policy = policy
                break
        else:
            raise SystemExit("bench: cannot set the connection's unconfigured-key policy")
        return self

    def url(self, key):
        return f"{self.endpoint}/{self.bucket}/{key}"


class Nginx:
    def __init__(self, directory):
        self.dir = os.path.join(directory, "nginx")
        self.proc = None

    def start(self):
        for sub in ("www", "body_temp"):
            os.makedirs(os.path.join(self.dir, sub))
        self.port = free_port()
        with open(os.path.join(HERE, "nginx.conf")) as f:
            conf = f.read()
        user = "user root root;" if os.geteuid() == 0 else ""
        conf = conf.replace("@DIR@", self.dir).replace("@PORT@", str(self.port)).replace("@USER@", user)
        path = os.path.join(self.dir, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = subprocess.Popen([nginx, "-p", self.dir, "-e", os.path.join(self.dir, "error.log"),
                                      "-c", path], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

        def ready():
            if self.proc.poll() is not None:
                with open(os.path.join(self.dir, "error.log"), errors="replace") as f:
                    raise SystemExit(f"bench: nginx exited with {self.proc.returncode}:\n{f.read()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False

        wait_for(ready, 20, "nginx")

    def url(self, key):
        return f"http://127.0.0.1:{self.port}/{key}"

    def clear(self):
        shutil.rmtree(os.path.join(self.dir, "www"))
        os.makedirs(os.path.join(self.dir, "www"))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            self.proc.wait(timeout=60)


def curl_entry(url, path, sign=None, payload_hash=None):
    lines = [f'url = "{url}"', f'upload-file = "{path}"', 'output = "/dev/null"',
             'write-out = "%{http_code} %{time_total}\\n"', "silent", "show-error",
             # No 100-continue round trip: the body follows the head at once, for both servers.
             'header = "Expect:"']
    if sign:
        lines += ['aws-sigv4 = "aws:amz:us-east-1:s3"', f'user = "{sign}"',
                  f'header = "x-amz-content-sha256: {payload_hash}"']
    return "\n".join(lines) + "\n"


def run_curl(entries, work, parallel=0, timeout=600):
    """Runs the uploads in one curl process; returns (wall seconds, [per-transfer seconds])."""
    cfg = os.path.join(work, "curl.cfg")
    with open(cfg, "w") as f:
        f.write("next\n".join(entries))
    args = ["curl", "-K", cfg]
    if parallel:
        args += ["--parallel", "--parallel-max", str(parallel), "--parallel-immediate"]
    started = time.monotonic()
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    wall = time.monotonic() - started
    results = [line.split() for line in p.stdout.splitlines() if line.strip()]
    bad = [r for r in results if r[0] not in ("200", "201", "204")]
    if p.returncode != 0 or bad or len(results) != len(entries):
        raise SystemExit(f"bench: curl failed (rc {p.returncode}, {len(results)}/{len(entries)} answers, "
                         f"statuses {sorted({r[0] for r in results})}):\n{p.stderr[-2000:]}")
    return wall, [float(r[1]) for r in results]


def make_file(work, size):
    path = os.path.join(work, f"object-{size}.bin")
    with open(path, "wb") as f:
        left = size
        block = os.urandom(min(size, 4 * MIB))
        while left:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n
    return path


def human(size):
    return f"{size // (1024 * MIB)} GiB" if size >= 1024 * MIB else (
        f"{size // MIB} MiB" if size >= MIB else f"{size // 1024} KiB")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sluice", required=True, help="the sluice binary")
    ap.add_argument("--quick", action="store_true", help="a smoke run: small sizes, few requests")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()

    if args.quick:
        sizes = [(MIB, 4)]
        small, requests, clients, rounds = 64 * 1024, 64, 4, 1
    else:
        sizes = [(MIB, 64), (64 * MIB, 8), (1024 * MIB, 2)]
        small, requests, clients, rounds = 64 * 1024, 4000, 32, args.rounds

    work = tempfile.mkdtemp(prefix="sluice-bench-s3-")
    sluice, nginx = Sluice(args.sluice, work), Nginx(work)
    figures = []
    try:
        sluice.start()
        nginx.start()
        print(f"sluice {sluice.endpoint} (unconfigured keys: {sluice.policy}); nginx WebDAV {nginx.url('')}; "
              f"{os.cpu_count()} CPUs", flush=True)

        # What SHA-256 alone costs on this machine (OpenSSL through hashlib, one core).
        buf = os.urandom(64 * MIB)
        started = time.monotonic()
        hashlib.sha256(buf).hexdigest()
        sha_mbps = len(buf) / MIB / (time.monotonic() - started)
        # What durable writing costs on this disk: write(2) and fdatasync of the same 64 MiB,
        # the floor under sluice's acknowledgement (nginx does not sync).
        sync_path = os.path.join(work, "sync-probe.bin")
        started = time.monotonic()
        fd = os.open(sync_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(buf)
            while view:
                view = view[os.write(fd, view[:8 * MIB]):]
            os.fdatasync(fd)
        finally:
            os.close(fd)
        sync_mbps = len(buf) / MIB / (time.monotonic() - started)
        os.remove(sync_path)
        del buf
        print(f"sha256 alone: {sha_mbps:.0f} MB/s on one core; write + fdatasync: {sync_mbps:.0f} MB/s",
              flush=True)

        for size, count in sizes:
            path = make_file(work, size)
            payload_hash = hashlib.sha256(open(path, "rb").read()).hexdigest() if size <= 64 * MIB else None
            if payload_hash is None:
                h = hashlib.sha256()
                with open(path, "rb") as f:
                    for block in iter(lambda: f.read(8 * MIB), b""):
                        h.update(block)
                payload_hash = h.hexdigest()
            best = {}
            for r in range(rounds):
                for name in ("nginx", "sluice UNSIGNED-PAYLOAD", "sluice hex-signed"):
                    if name == "nginx":
                        entries = [curl_entry(nginx.url(f"b/{size}-{r}-{i}"), path) for i in range(count)]
                    else:
                        hash_value = "UNSIGNED-PAYLOAD" if "UNSIGNED" in name else payload_hash
                        tag = "u" if "UNSIGNED" in name else "h"
                        entries = [curl_entry(sluice.url(f"b/{tag}{size}-{r}-{i}"), path, sluice.user,
                                              hash_value) for i in range(count)]
                    _, times = run_curl(entries, work)
                    mbps = size * count / MIB / sum(times)
                    best[name] = max(best.get(name, 0), mbps)
                    nginx.clear()
            os.remove(path)
            for name in ("sluice UNSIGNED-PAYLOAD", "sluice hex-signed"):
                figures.append({"case": f"PUT {human(size)} x{count}, {name.split(' ', 1)[1]}",
                                "unit": "MB/s", "sluice": best[name], "nginx": best["nginx"]})
                print_row(figures[-1])

        path = make_file(work, small)
        best = {}
        for r in range(rounds):
            for name in ("nginx", "sluice"):
                if name == "nginx":
                    entries = [curl_entry(nginx.url(f"s/{r}-{i}"), path) for i in range(requests)]
                else:
                    entries = [curl_entry(sluice.url(f"s/{r}-{i}"), path, sluice.user, "UNSIGNED-PAYLOAD")
                               for i in range(requests)]
                wall, _ = run_curl(entries, work, parallel=clients)
                best[name] = max(best.get(name, 0), requests / wall)
                nginx.clear()
        figures.append({"case": f"PUT {human(small)} x{requests}, {clients} clients, UNSIGNED-PAYLOAD",
                        "unit": "req/s", "sluice": best["sluice"], "nginx": best["nginx"]})
        print_row(figures[-1])
    finally:
        sluice.stop()
        nginx.stop()
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"{'case':<58} {'sluice':>10} {'nginx':>10} {'unit':>6} {'sluice/nginx':>13}")
    for f in figures:
        print(f"{f['case']:<58} {f['sluice']:>10.0f} {f['nginx']:>10.0f} {f['unit']:>6} "
              f"{f['sluice'] / f['nginx']:>13.2f}")
    print(f"{'sha256 alone (one core)':<58} {sha_mbps:>10.0f} {'':>10} {'MB/s':>6}")
    print(f"{'write + fdatasync of 64 MiB (the disk, no HTTP)':<58} {sync_mbps:>10.0f} {'':>10} {'MB/s':>6}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"sha256_mbps": sha_mbps, "fdatasync_mbps": sync_mbps, "figures": figures}, f, indent=1)
    return 0


def print_row(f):
    print(f"  {f['case']}: sluice {f['sluice']:.0f} {f['unit']}, nginx {f['nginx']:.0f} {f['unit']}, "
          f"ratio {f['sluice'] / f['nginx']:.2f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
