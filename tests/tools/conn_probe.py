#!/usr/bin/env python3
"""Abusive clients for tests/e2e/http_limits.sh.

  conn_probe.py limits PORT PER_IP TOTAL
      Hold PER_IP connections from 127.0.0.1 and check more from that
      address are dropped; fill the total from 127.0.0.2..; check a client
      past the total gets no answer while the others hold; release; check
      the server answers again.
  conn_probe.py slow PORT MODE TIMEOUT_MS
      MODE headers: send request headers one byte every 250 ms;
      MODE body: complete headers, then the body one byte every 250 ms.
      Check the server cuts the connection near TIMEOUT_MS, while a
      loop timer (/debug/ticks) keeps counting and /healthz answers.
"""
import socket
import sys
import time
import urllib.request


def connect(port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(3)
    s.connect(("127.0.0.1", port))
    return s


def dropped(s, wait=2.0):
    """True if the server closes s (EOF or reset) within wait seconds."""
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=3) as r:
        return r.status, r.read().decode()


def limits(port, per_ip, total):
    held = [connect(port, "127.0.0.1") for _ in range(per_ip)]
    for s in held:
        s.sendall(b"GET /healthz HTTP/1.1\r\n")
    time.sleep(0.3)
    extra = [connect(port, "127.0.0.1") for _ in range(3)]
    assert all(dropped(s) for s in extra), "per-address limit not enforced"
    print("ok: connections past %d from one address are dropped" % per_ip)
    n, host = per_ip, 2
    while n < total:
        batch = min(per_ip, total - n)
        for _ in range(batch):
            s = connect(port, "127.0.0.%d" % host)
            s.sendall(b"GET /healthz HTTP/1.1\r\n")
            held.append(s)
        n += batch
        host += 1
    time.sleep(0.3)
    assert not any(dropped(s, 0.05) for s in held), "a held connection was dropped"
    late = connect(port, "127.0.0.%d" % host)
    late.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    late.settimeout(1.0)
    try:
        answer = late.recv(64)
    except (socket.timeout, ConnectionResetError):
        answer = b""
    assert not answer.startswith(b"HTTP/"), "served past the connection limit"
    print("ok: a client past the %d-connection limit gets no answer" % total)
    for s in held:
        s.close()
    late.close()
    time.sleep(0.3)
    status, body = get(port, "/healthz")
    assert status == 200 and body == "ok\n", (status, body)
    print("ok: after the flood the server answers again")


def slow(port, mode, timeout_ms):
    t_before = int(get(port, "/debug/ticks")[1])
    s = connect(port, "127.0.0.1")
    if mode == "headers":
        head, trickle = b"GET /healthz HTTP/1.1\r\n", b"X-Slow: " + b"a" * 200
    else:
        # a Host the server accepts for writes, so that it reads the body
        head = (b"POST /api/v1/echo HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                b"Content-Length: 200\r\n\r\n" % port)
        trickle = b"b" * 200
    t0 = time.monotonic()
    s.sendall(head)
    served_meanwhile, cut_at = False, None
    for i in range(len(trickle)):
        try:
            s.sendall(trickle[i:i + 1])
        except (BrokenPipeError, ConnectionResetError):
            cut_at = time.monotonic() - t0
            break
        if dropped(s, 0.25):
            cut_at = time.monotonic() - t0
            break
        if i == 2:
            served_meanwhile = get(port, "/healthz") == (200, "ok\n")
    assert cut_at is not None, "slow client was never cut off"
    elapsed_ticks = int(get(port, "/debug/ticks")[1]) - t_before
    print("slow %s client cut after %.2fs; loop timer ticked %d times meanwhile"
          % (mode, cut_at, elapsed_ticks))
    limit = timeout_ms / 1000.0
    assert limit * 0.8 <= cut_at <= limit + 1.5, cut_at
    assert served_meanwhile, "/healthz not served while the slow client held on"
    # a 100 ms timer: at least half its expected count
    assert elapsed_ticks >= cut_at * 10 / 2, elapsed_ticks


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "limits":
        limits(port, int(sys.argv[3]), int(sys.argv[4]))
    else:
        slow(port, sys.argv[3], int(sys.argv[4]))


if __name__ == "__main__":
    main()
