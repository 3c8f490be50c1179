#!/usr/bin/env python3
"""Listen on an AF_UNIX datagram socket as systemd's NOTIFY_SOCKET does.

Usage: notify_listen.py SOCKET_PATH OUT_FILE READY_FILE TIMEOUT_S

Writes one line per datagram to OUT_FILE: "<ms since first message> <text>",
with the newlines inside a datagram shown as '|'.  Touches READY_FILE once
bound, and stops after STOPPING=1 or TIMEOUT_S seconds of silence.
"""
import socket
import sys
import time


def main():
    path, out, ready, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(timeout)
    open(ready, "w").close()
    t0 = None
    with open(out, "w") as f:
        while True:
            try:
                data = s.recv(4096)
            except socket.timeout:
                break
            now = time.monotonic()
            if t0 is None:
                t0 = now
            text = data.decode("utf-8", "replace").rstrip("\n").replace("\n", "|")
            f.write("%d %s\n" % (round((now - t0) * 1000), text))
            f.flush()
            if "STOPPING=1" in text.split("|"):
                break


if __name__ == "__main__":
    main()
