#!/usr/bin/env python3
"""HAProxy's runtime API for the deployment scripts: take a server out of service, wait until its
requests have finished, put it back, wait until its health check passes.

    haproxy_admin.py state SOCKET STATE BACKEND/SERVER...     # ready, drain or maint
    haproxy_admin.py wait-idle SOCKET BACKEND/SERVER... [--timeout S]
    haproxy_admin.py wait-up SOCKET BACKEND/SERVER... [--timeout S]
    haproxy_admin.py servers SOCKET PREFIX                    # backend/server of every server whose backend starts with PREFIX
    haproxy_admin.py sessions SOCKET BACKEND/SERVER...        # requests in progress on them, summed

A server is idle when no request is in progress on it (`scur`) and none waits for it (`qcur`),
in HAProxy's `show stat`. It is up when `show stat` says UP (a tracking server follows the one it
tracks). Exits 1 with what it saw when a wait runs out.
"""

import argparse
import csv
import io
import socket
import sys
import time

PROG = "haproxy_admin"


def command(path, text):
    """Sends one command over the stats socket and returns HAProxy's answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(5)
        connection.connect(path)
        connection.sendall(text.encode() + b"\n")
        chunks = []
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks).decode()


def stats(path):
    """`show stat` as {(backend, server): row}."""
    text = command(path, "show stat").lstrip("# ")
    rows = csv.DictReader(io.StringIO(text))
    return {(row["pxname"], row["svname"]): row for row in rows if row.get("svname") not in ("FRONTEND", "BACKEND")}


def split(names):
    pairs = []
    for name in names:
        backend, _, server = name.partition("/")
        if not server:
            sys.exit(f"{PROG}: '{name}' is not backend/server")
        pairs.append((backend, server))
    return pairs


def wait(path, pairs, timeout, done, what):
    deadline = time.monotonic() + timeout
    while True:
        table = stats(path)
        missing = [f"{b}/{s}" for b, s in pairs if (b, s) not in table]
        if missing:
            sys.exit(f"{PROG}: no such server: {', '.join(missing)}")
        pending = [(b, s) for b, s in pairs if not done(table[(b, s)])]
        if not pending:
            return
        if time.monotonic() > deadline:
            seen = "; ".join(
                f"{b}/{s} status={table[(b, s)]['status']} scur={table[(b, s)]['scur']} qcur={table[(b, s)]['qcur']}"
                for b, s in pending)
            sys.exit(f"{PROG}: not {what} after {timeout} s: {seen}")
        time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    state = sub.add_parser("state")
    state.add_argument("socket")
    state.add_argument("state", choices=["ready", "drain", "maint"])
    state.add_argument("servers", nargs="+")
    for name in ("wait-idle", "wait-up"):
        waiting = sub.add_parser(name)
        waiting.add_argument("socket")
        waiting.add_argument("servers", nargs="+")
        waiting.add_argument("--timeout", type=float, default=30)
    servers = sub.add_parser("servers")
    servers.add_argument("socket")
    servers.add_argument("prefix")
    sessions = sub.add_parser("sessions")
    sessions.add_argument("socket")
    sessions.add_argument("servers", nargs="+")
    options = parser.parse_args()

    if options.action == "state":
        for backend, server in split(options.servers):
            answer = command(options.socket, f"set server {backend}/{server} state {options.state}").strip()
            if answer:
                sys.exit(f"{PROG}: set server {backend}/{server} state {options.state}: {answer}")
    elif options.action == "wait-idle":
        wait(options.socket, split(options.servers), options.timeout,
             lambda row: row["scur"] in ("", "0") and row["qcur"] in ("", "0"), "idle")
    elif options.action == "wait-up":
        wait(options.socket, split(options.servers), options.timeout,
             lambda row: row["status"].startswith("UP"), "up")
    elif options.action == "servers":
        for backend, server in sorted(stats(options.socket)):
            if backend.startswith(options.prefix):
                print(f"{backend}/{server}")
    elif options.action == "sessions":
        table = stats(options.socket)
        print(sum(int(table[pair]["scur"] or 0) for pair in split(options.servers)))


if __name__ == "__main__":
    main()
