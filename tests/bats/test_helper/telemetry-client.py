#!/usr/bin/env python3
"""A DPDK telemetry client that sends what it is given, as it is.

dpdk-telemetry.py (dpdk-dev) reads commands from stdin and works through a
pipe, but it sends only lines that start with '/', so it cannot send a
malformed command; this client speaks the same protocol (a SOCK_SEQPACKET
unix socket; on connect the server sends one JSON object with
"max_output_len"; then one reply per message sent) and sends each COMMAND's
bytes unchanged, one message each, printing each reply on one line.

Usage: telemetry-client.py SOCKET COMMAND...
       telemetry-client.py --for SECONDS [--pause SECONDS] SOCKET COMMAND...
       telemetry-client.py --no-reading SECONDS SOCKET COMMAND
The second form repeats the commands on a fresh connection each round until
the first SECONDS have passed, pausing between rounds (default 0): a client
that keeps reading while the backend works. The third sends COMMAND again
and again without reading a reply, until the socket's buffers are full, then
holds the connection for SECONDS: a client that jams a telemetry thread.

Exit codes: 0 every command was answered, 1 a connection or reply failed
(the reason on stderr), 2 bad usage.
"""

import json
import os
import socket
import sys
import time

TIMEOUT_S = 5.0


def one_round(path, commands):
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as sock:
        sock.settimeout(TIMEOUT_S)
        sock.connect(path)
        hello = json.loads(sock.recv(1024).decode())
        max_len = int(hello["max_output_len"])
        for command in commands:
            # argv holds the bytes the shell passed: surrogateescape gives them back.
            sock.send(os.fsencode(command))
            reply = sock.recv(max_len)
            if not reply:
                raise ConnectionError("the server closed the connection")
            print(reply.decode("utf-8", "replace"), flush=True)


def jam(path, command, hold_s):
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as sock:
        sock.connect(path)
        sock.recv(1024)
        sock.settimeout(1.0)
        sent = 0
        try:
            while True:
                sock.send(os.fsencode(command))
                sent += 1
        except socket.timeout:
            pass
        print(f"sent {sent} without reading; holding the connection", flush=True)
        time.sleep(hold_s)


def main(argv):
    if len(argv) == 4 and argv[0] == "--no-reading":
        try:
            jam(argv[2], argv[3], float(argv[1]))
        except OSError as e:
            print(f"telemetry-client: {argv[2]}: {e}", file=sys.stderr)
            return 1
        return 0
    duration = None
    pause = 0.0
    while len(argv) >= 2 and argv[0] in ("--for", "--pause"):
        if argv[0] == "--for":
            duration = float(argv[1])
        else:
            pause = float(argv[1])
        argv = argv[2:]
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path, commands = argv[0], argv[1:]
    try:
        if duration is None:
            one_round(path, commands)
        else:
            deadline = time.monotonic() + duration
            while time.monotonic() < deadline:
                one_round(path, commands)
                time.sleep(pause)
    except (OSError, ValueError, KeyError) as e:
        print(f"telemetry-client: {path}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
