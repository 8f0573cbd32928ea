#!/usr/bin/env python3
"""An OTLP/HTTP collector stand-in for benchmarks: answers every export, or none.

    otlp-sink.py PORT_FILE [--mode up|slow] [--stats FILE]

`up` reads each POST /v1/traces body and answers 200 with an empty ExportTraceServiceResponse
(an empty protobuf message is zero bytes), counting requests and bytes. `slow` accepts each
connection and never answers, as a collector that hangs would. The port it listens on (chosen by
the system) is written to PORT_FILE; on SIGTERM the counts are written to --stats as
`requests=N bytes=N`.
"""

import argparse
import http.server
import signal
import socket
import sys
import threading

counts = {"requests": 0, "bytes": 0}
lock = threading.Lock()


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 (the handler's name is http.server's)
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        with lock:
            counts["requests"] += 1
            counts["bytes"] += len(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def hang(listener):
    held = []
    while True:
        connection, _ = listener.accept()
        held.append(connection)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port_file")
    parser.add_argument("--mode", choices=["up", "slow"], default="up")
    parser.add_argument("--stats")
    options = parser.parse_args()

    def stop(*_):
        if options.stats:
            with open(options.stats, "w") as out:
                out.write(f"requests={counts['requests']} bytes={counts['bytes']}\n")
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    if options.mode == "slow":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        port = listener.getsockname()[1]
        with open(options.port_file, "w") as out:
            out.write(str(port))
        hang(listener)
    else:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
        with open(options.port_file, "w") as out:
            out.write(str(server.server_address[1]))
        server.serve_forever()


if __name__ == "__main__":
    main()
