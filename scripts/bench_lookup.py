"""scripts/bench-lookup: lookups per second from the cache and from slapd (see the bash wrapper)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.slapd import BIND_DN, BIND_PASSWORD, PEOPLE, Person, Slapd
from harness.yamlout import dump

USERS = 1000
COUNT = int(os.environ.get("BENCH_COUNT", "10000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
BIN = os.environ["POSTERN_BIN"]


def config(slapd: Slapd, d: Path, ttl: int) -> Path:
    secret = d / "bind.secret"
    secret.write_text(BIND_PASSWORD + "\n")
    cfg = {
        "listeners": [{"name": "imap", "protocol": "imap", "listen": ["127.0.0.1:1143"],
                       "backend": {"port": 143}}],
        "map": {
            "ldap": {"uri": [slapd.uri], "bind_dn": BIND_DN, "password_file": str(secret), "base": PEOPLE,
                     "scope": "one", "filter": "(uid={user})", "timeout": 5, "pool_size": 4},
            "cache": {"ttl": ttl, "negative_ttl": 30, "stale_ttl": 3600, "size": 100000},
        },
    }
    path = d / f"postern-ttl{ttl}.yaml"
    path.write_text(dump(cfg))
    return path


def bench(cfg: Path, users: Path, warm: bool) -> str:
    cmd = [BIN, "bench-lookup", "-c", str(cfg), "--users", str(users), "--count", str(COUNT),
           "--concurrency", str(CONCURRENCY)] + (["--warm"] if warm else [])
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=600)
    out = p.stdout.decode(errors="replace").strip()
    if p.returncode != 0:
        raise SystemExit(f"bench-lookup failed ({p.returncode}): {out}")
    return out


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="postern-bench-lookup-") as tmp:
        d = Path(tmp)
        people = [Person(f"user{i:04d}", "127.0.0.1" if i % 2 else "127.0.0.2") for i in range(USERS)]
        slapd = Slapd(d / "slapd", people)
        slapd.start()
        try:
            users = d / "users.txt"
            users.write_text("\n".join(p.uid for p in people) + "\n")
            build = "release" if "/release/" in BIN else "debug"
            print(f"postern bench-lookup ({build} build, {BIN}); slapd 2.5 on {slapd.uri} with {USERS} users; "
                  f"{COUNT} lookups, {CONCURRENCY} in flight, LDAP pool of 4 connections")
            cached = bench(config(slapd, d, 3600), users, warm=True)
            print(f"from the cache (warmed, ttl 3600): {cached}")
            direct = bench(config(slapd, d, 0), users, warm=False)
            print(f"from slapd (cache off, ttl 0):     {direct}")
        finally:
            slapd.stop()


if __name__ == "__main__":
    sys.exit(main())
