#!/usr/bin/env python3
"""The checks scripts/check-telemetry runs against the distributed platform's traces, logs and metrics.

    telemetry_check.py receive PORT_FILE SPANS.jsonl
    telemetry_check.py wait-span SPANS.jsonl --service S --name N [--timeout SECONDS]
    telemetry_check.py check-traces SPANS.jsonl --secrets SECRETS.json --logs NAME=FILE...
    telemetry_check.py check-metrics --secrets SECRETS.json --target NAME=URL...
    telemetry_check.py prometheus-config SOURCE_DIR DEST_DIR --target SERVICE=HOST:PORT...
    telemetry_check.py check-prometheus URL CONFIG_DIR [--timeout SECONDS]

`receive` is an OTLP/HTTP trace receiver on 127.0.0.1 (a free port, written to PORT_FILE): it
accepts POST /v1/traces with an `application/x-protobuf` body (gzip-encoded when Content-Encoding
says so), decodes it as an ExportTraceServiceRequest, answers 200 with an empty
ExportTraceServiceResponse, and appends every span to SPANS.jsonl as one JSON object: its resource's
`service.name`, trace, span and parent ids (hex), name, kind, attributes, links and status code.

The other commands read that file, the processes' JSON logs, their /metrics pages and a Prometheus
server, and exit 1 naming everything that is missing. SECRETS.json is a JSON list of strings (names,
phone numbers, e-mail addresses, passwords) that no span, attribute or metric label may contain.

Needs opentelemetry-proto (and protobuf) for `receive`, PyYAML for the Prometheus commands;
scripts/check-telemetry installs them.
"""
import argparse
import collections
import glob
import gzip
import http.server
import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

PROG = "check-telemetry"

# The approval, as the gateway names its span and route (a route template, never a path with ids).
APPROVE_ROUTE = "/v1/disbursements/{id}/approve"
APPROVE_SPAN = f"POST {APPROVE_ROUTE}"
# Protos/rahat/ledger/v1/ledger.proto: package rahat.ledger.v1, service LedgerService, and the
# batch a disbursement job pays its lines with. A span is named by the fully qualified method.
LEDGER_BATCH_METHOD = "rahat.ledger.v1.LedgerService/RecordTransferBatch"
DISBURSEMENT_JOB = "job c2c.disbursement.execute"
FUND_DISBURSED_EVENT = "event rahat.c2c.fund.disbursed"
# Polls: the gateway's own (revocations, and the services' health behind its readiness) and the
# probes' (readiness, asked every tenth of a second while the processes start).
BACKGROUND_POLLS = {"rahat.auth.v1.AuthService/ListRevocations", "grpc.health.v1.Health/Check",
                    "GET /readiness", "GET /health"}

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
EMAIL = re.compile(r"[^@\s\"]+@[^@\s\"]+\.[a-z]{2,}", re.I)
# Eight or more digits in one run (spaces, dots, dashes and brackets between them allowed), an
# optional leading +: what a phone number looks like. Bucket bounds (`le`) are not label values
# anyone chose and are skipped.
PHONE = re.compile(r"\+?\d[\d ().-]{6,}\d")
LABEL_VALUE_LIMIT = 120


def fail(problems, what):
    """Prints every problem and exits 1 when there are any."""
    if problems:
        print(f"{PROG}: {what}: {len(problems)} problem(s):", file=sys.stderr)
        for text in problems:
            print(f"  - {text}", file=sys.stderr)
        sys.exit(1)


def settle(what, seconds, evaluate):
    """Runs evaluate() (which returns problems and report lines) until it finds no problem or
    `seconds` have passed (what a loaded machine still has in flight: a batch of spans not yet
    exported, a counter not yet scraped), then prints the report or fails with the last problems."""
    deadline = time.monotonic() + seconds
    while True:
        problems, report = evaluate()
        if not problems or time.monotonic() > deadline:
            break
        time.sleep(1)
    for line in report:
        print(f"{PROG}: {line}")
    fail(problems, what)


# ─── The OTLP receiver ──────────────────────────────────────────────────────────────────────────


def any_value(value):
    """An OTLP AnyValue as a Python value."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: any_value(item.value) for item in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def attributes(pairs):
    return {pair.key: any_value(pair.value) for pair in pairs}


def receive(options):
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
    from opentelemetry.proto.trace.v1 import trace_pb2

    kinds = {number: name.removeprefix("SPAN_KIND_") for name, number in trace_pb2.Span.SpanKind.items()}
    codes = {number: name.removeprefix("STATUS_CODE_") for name, number in trace_pb2.Status.StatusCode.items()}
    lock = threading.Lock()
    out = open(options.spans, "a", encoding="utf-8")  # noqa: SIM115 (open for the server's life)
    empty_response = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()

    class Receiver(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self, status, body=b"", content_type="application/x-protobuf"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802 (http.server's name)
            if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
                body = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline().strip():  # trailers, then the blank line
                            pass
                        break
                    body += self.rfile.read(size)
                    self.rfile.readline()
            else:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if urllib.parse.urlsplit(self.path).path != "/v1/traces":
                self.answer(404, b"only /v1/traces\n", "text/plain")
                return
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if content_type != "application/x-protobuf":
                print(f"{PROG}: receiver: refused a body of type {content_type!r}", file=sys.stderr)
                self.answer(415, b"application/x-protobuf only\n", "text/plain")
                return
            try:
                if (self.headers.get("Content-Encoding") or "").strip().lower() == "gzip":
                    body = gzip.decompress(body)
                request = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
            except Exception as error:  # noqa: BLE001 (any undecodable body is the sender's fault)
                print(f"{PROG}: receiver: undecodable export ({error})", file=sys.stderr)
                self.answer(400, f"{error}\n".encode(), "text/plain")
                return
            lines = []
            for resource_spans in request.resource_spans:
                resource = attributes(resource_spans.resource.attributes)
                service = resource.get("service.name")
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        lines.append(json.dumps({
                            "service": service,
                            "resource": resource,
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent_span_id": span.parent_span_id.hex(),
                            "name": span.name,
                            "kind": kinds.get(span.kind, str(span.kind)),
                            "attributes": attributes(span.attributes),
                            "links": [
                                {"trace_id": link.trace_id.hex(), "span_id": link.span_id.hex(),
                                 "attributes": attributes(link.attributes)}
                                for link in span.links
                            ],
                            "status": codes.get(span.status.code, str(span.status.code)),
                            "events": [event.name for event in span.events],
                        }, sort_keys=True))
            with lock:
                for line in lines:
                    out.write(line + "\n")
                out.flush()
            self.answer(200, empty_response)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    temporary = options.port_file + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(str(server.server_address[1]))
    os.replace(temporary, options.port_file)
    server.serve_forever()


def load_spans(path):
    spans = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    spans.append(json.loads(line))
    return spans


def wait_span(options):
    deadline = time.monotonic() + options.timeout
    while True:
        spans = load_spans(options.spans)
        if any(s["service"] == options.service and s["name"] == options.name for s in spans):
            return
        if time.monotonic() > deadline:
            names = collections.Counter((s["service"], s["name"]) for s in spans if s["service"] == options.service)
            seen = ", ".join(f"{name} ×{count}" for (_, name), count in sorted(names.items())) or "none"
            sys.exit(f"{PROG}: no span {options.name!r} from {options.service} within {options.timeout:.0f} s "
                     f"({len(spans)} spans received; {options.service}'s: {seen})")
        time.sleep(0.25)


# ─── Traces and logs ────────────────────────────────────────────────────────────────────────────


def short(span):
    """One span on one line, for failure messages."""
    parts = [f"{span['service']} {span['kind']} {span['name']!r}",
             f"trace {span['trace_id']} span {span['span_id']} parent {span['parent_span_id'] or '-'}"]
    if span["links"]:
        parts.append("links " + ", ".join(f"{link['trace_id']}/{link['span_id']}" for link in span["links"]))
    if span["attributes"]:
        parts.append("attributes " + json.dumps(span["attributes"], sort_keys=True))
    parts.append(f"status {span['status']}")
    return "; ".join(parts)


def dump(spans, limit=25):
    lines = [f"      {short(span)}" for span in spans[:limit]]
    if len(spans) > limit:
        lines.append(f"      … and {len(spans) - limit} more")
    return "\n" + "\n".join(lines) if lines else " (none)"


def strings_in(value):
    """Every string in a (nested) attribute value, numbers written out too."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
    elif value is not None:
        yield str(value)


def load_secrets(path):
    with open(path, encoding="utf-8") as handle:
        return [secret for secret in json.load(handle) if secret]


def outbox_evidence(path, types, spans):
    """What the outbox rows of `types` carried, for a job or event span that started a trace of its own."""
    rows = []
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            rows = [line.strip().split(None, 2) for line in handle if line.strip()]
    rows = [row for row in rows if len(row) == 3]
    relevant = [row for row in rows if row[1] in types]
    text = (f"{', '.join(types)}: the job or consumer span started a new trace with no link or parent, so the "
            f"trace context did not reach it. The outbox rows that carried {' and '.join(types)}:")
    text += "".join(f"\n      {schema}.outbox {kind} traceparent={value}" for schema, kind, value in relevant)
    if not relevant:
        text += " (none read)"
    unset = [row for row in rows if row[2] == "(null)"]
    if rows and len(unset) == len(rows):
        text += (f"\n    every one of the {len(rows)} outbox rows the flow wrote (core and c2c) has a NULL traceparent:"
                 " the platform loses the span where it appends to the outbox (Outbox.append, inside a database"
                 " transaction, sees no current span), before the relay, the job queue or the consumer.")
    elif relevant and all(row[2] != "(null)" for row in relevant):
        text += "\n    the rows carry a traceparent: the context is lost after the outbox (relay, job store or consumer)."
    # Database queries are traced by the driver. A transaction's span with no query under it, and
    # query spans that start traces of their own, show where the current span stops being visible.
    parents = {s["parent_span_id"] for s in spans}
    empty = [s for s in spans if s["name"] == "db transaction" and s["span_id"] not in parents]
    orphans = collections.Counter(s["service"] for s in spans if s["name"] == "fluent.query" and not s["parent_span_id"])
    if empty and orphans:
        text += (f"\n    {len(empty)} of {sum(s['name'] == 'db transaction' for s in spans)} 'db transaction' spans have "
                 f"no child span, and {sum(orphans.values())} 'fluent.query' spans have no parent ("
                 + ", ".join(f"{service} {count}" for service, count in sorted(orphans.items()))
                 + "): the statements run inside a transaction do not see the current span either.")
    return text


def check_traces(options):
    settle("traces", options.settle, lambda: trace_problems(options))


def trace_problems(options):
    """The problems with the received spans and logs, and the lines to report when there are none."""
    spans = load_spans(options.spans)
    secrets = load_secrets(options.secrets)
    problems, report = [], []
    if not spans:
        return [f"the receiver got no span at all ({options.spans} is empty): is tracing on in the processes?"], []
    by_trace = collections.defaultdict(list)
    by_id = {}
    for span in spans:
        by_trace[span["trace_id"]].append(span)
        by_id[(span["trace_id"], span["span_id"])] = span
    per_service = collections.Counter(s["service"] for s in spans)
    report.append(f"{len(spans)} spans in {len(by_trace)} traces: "
                  + ", ".join(f"{service} {count}" for service, count in sorted(per_service.items(), key=str)))

    # 1. The gateway's server span of the approval.
    approvals = [s for s in spans if s["service"] == "rahat-gateway" and s["kind"] == "SERVER"
                 and s["name"] == APPROVE_SPAN]
    good = [s for s in approvals if s["attributes"].get("http.route") == APPROVE_ROUTE
            and s["attributes"].get("http.request.method") == "POST"
            and s["attributes"].get("http.response.status_code") == 200]
    if not good:
        gateway_servers = [s for s in spans if s["service"] == "rahat-gateway" and s["kind"] == "SERVER"]
        return [f"no rahat-gateway SERVER span {APPROVE_SPAN!r} with http.route={APPROVE_ROUTE}, "
                f"http.request.method=POST, http.response.status_code=200; spans of that name:{dump(approvals)}\n"
                f"    the gateway's server spans:{dump(gateway_servers)}"], report

    # The disbursement jobs, and the approval trace they link to.
    jobs = [s for s in spans if s["service"] == "rahat-worker" and s["kind"] == "CONSUMER"
            and s["name"] == DISBURSEMENT_JOB]
    approval_traces = {s["trace_id"] for s in good}
    linked = {link["trace_id"] for job in jobs for link in job["links"]} & approval_traces
    approval_trace = sorted(linked)[0] if linked else sorted(approval_traces)[0]
    approval = next(s for s in good if s["trace_id"] == approval_trace)
    in_approval = by_trace[approval_trace]

    # 2. The gateway's call to the c2c service, and the c2c service's side of it.
    clients = [s for s in in_approval if s["service"] == "rahat-gateway" and s["kind"] == "CLIENT"
               and s["name"].startswith("rahat.c2c.v1.")]
    if not clients:
        problems.append(f"approval trace {approval_trace}: no rahat-gateway CLIENT span named rahat.c2c.v1.…; "
                        f"the trace:{dump(in_approval)}")
    matched = False
    for client in clients:
        servers = [s for s in in_approval if s["service"] == "rahat-c2c" and s["kind"] == "SERVER"
                   and s["name"] == client["name"] and s["parent_span_id"] == client["span_id"]]
        if servers:
            matched = True
            for span in (client, servers[0]):
                if span["attributes"].get("rpc.system.name") != "grpc":
                    problems.append(f"span without rpc.system.name=grpc: {short(span)}")
    if clients and not matched:
        problems.append(f"approval trace {approval_trace}: no rahat-c2c SERVER span that is the child of the "
                        f"gateway's CLIENT span of the same name; the trace:{dump(in_approval)}")
    if approval["parent_span_id"]:
        problems.append(f"the approval's server span has a parent (the gateway should start the trace): "
                        f"{short(approval)}")

    # 3. The disbursement jobs: their own traces, linked to the approval, each calling the ledger.
    job_traces = []
    if not jobs:
        worker = sorted({s["name"] for s in spans if s["service"] == "rahat-worker"})
        problems.append(f"no rahat-worker CONSUMER span {DISBURSEMENT_JOB!r}; the worker's span names: "
                        f"{worker or 'none'}")
    lost_context = []
    for job in jobs:
        links = [link for link in job["links"]
                 if link["trace_id"] == approval_trace and (link["trace_id"], link["span_id"]) in by_id]
        if not links:
            problems.append(f"job span without a link to a received span of the approval trace "
                            f"{approval_trace}: {short(job)}")
            if not job["links"] and not job["parent_span_id"]:
                lost_context.append("rahat.jobs.requested")
        if job["trace_id"] == approval_trace:
            problems.append(f"job span in the approval's own trace (a fanned-out job starts its own): {short(job)}")
        trace = by_trace[job["trace_id"]]
        job_traces.append(job["trace_id"])
        ledger_clients = [s for s in trace if s["service"] == "rahat-worker" and s["kind"] == "CLIENT"
                          and s["name"] == LEDGER_BATCH_METHOD]
        if not ledger_clients:
            problems.append(f"job trace {job['trace_id']}: no rahat-worker CLIENT span {LEDGER_BATCH_METHOD!r}; "
                            f"the trace:{dump(trace)}")
            continue
        if not any(s["service"] == "rahat-ledger" and s["kind"] == "SERVER" and s["name"] == LEDGER_BATCH_METHOD
                   and s["parent_span_id"] in {c["span_id"] for c in ledger_clients} for s in trace):
            problems.append(f"job trace {job['trace_id']}: no rahat-ledger SERVER span {LEDGER_BATCH_METHOD!r} "
                            f"whose parent is the worker's CLIENT span; the trace:{dump(trace)}")
        for span in ledger_clients:
            if span["attributes"].get("rpc.system.name") != "grpc":
                problems.append(f"span without rpc.system.name=grpc: {short(span)}")

    # 4. Core's handling of the jobs' fund.disbursed events, in the jobs' traces.
    events = [s for s in spans if s["service"] == "rahat-core" and s["kind"] == "CONSUMER"
              and s["name"] == FUND_DISBURSED_EVENT]
    if not events:
        core = sorted({s["name"] for s in spans if s["service"] == "rahat-core" and s["kind"] == "CONSUMER"})
        problems.append(f"no rahat-core CONSUMER span {FUND_DISBURSED_EVENT!r}; core's consumer spans: "
                        f"{core or 'none'}")
    for event in events:
        if event["trace_id"] not in job_traces:
            problems.append(f"core's event span is not in a disbursement job's trace ({', '.join(job_traces)}): "
                            f"{short(event)}")
            if not event["parent_span_id"]:
                lost_context.append("rahat.c2c.fund.disbursed")
        elif (event["trace_id"], event["parent_span_id"]) not in by_id:
            problems.append(f"core's event span's parent {event['parent_span_id'] or '(none)'} is not a received "
                            f"span of its trace: {short(event)}; the trace:{dump(by_trace[event['trace_id']])}")
        if event["attributes"].get("messaging.consumer.group.name") != "core":
            problems.append(f"core's event span without messaging.consumer.group.name=core: {short(event)}")
    for job in jobs:
        if job["status"] != "ERROR" and not any(e["trace_id"] == job["trace_id"] for e in events):
            problems.append(f"job trace {job['trace_id']}: no {FUND_DISBURSED_EVENT!r} span from rahat-core; "
                            f"the trace:{dump(by_trace[job['trace_id']])}")

    # 5. No personal data or credential in a span's name or attributes (or its resource's, or a link's).
    leaks = collections.Counter()
    examples = {}
    for span in spans:
        texts = [span["name"], *strings_in(span["attributes"]), *strings_in(span["resource"]),
                 *(text for link in span["links"] for text in strings_in(link["attributes"]))]
        for text in texts:
            lowered = text.lower()
            for secret in secrets:
                if secret.lower() in lowered:
                    leaks[secret] += 1
                    examples.setdefault(secret, span)
    for secret, count in leaks.items():
        problems.append(f"{count} span(s) contain {secret!r}, e.g. {short(examples[secret])}")

    # 6. Log lines joined to spans by trace_id and span_id.
    for name, path in (item.split("=", 1) for item in options.logs):
        service = f"rahat-{name}"
        ids = {(s["trace_id"], s["span_id"]) for s in spans if s["service"] == service}
        carrying, joined, example = 0, 0, None
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(entry, dict) or "trace_id" not in entry or "span_id" not in entry:
                    continue
                carrying += 1
                if (entry["trace_id"], entry["span_id"]) in ids:
                    joined += 1
                    example = example or entry
        if not joined:
            problems.append(f"{name}'s log ({path}): {carrying} line(s) carry trace_id and span_id, none equal "
                            f"to a received {service} span's ids")
        else:
            report.append(f"{name}: {joined} log line(s) join a span, e.g. {example.get('msg')!r} "
                          f"trace {example['trace_id']} span {example['span_id']}")

    # 7. Redis commands sent for traced work (a login's limit check, a job's) are client spans
    #    under a received span of that work; background traffic and polls start no trace.
    redis = [s for s in spans if s["attributes"].get("db.system.name") == "redis"]
    if not any(s["service"] == "rahat-gateway" for s in redis):
        problems.append("no rahat-gateway span with db.system.name=redis (the login's limit check)")
    for span in redis:
        if span["kind"] != "CLIENT" or (span["trace_id"], span["parent_span_id"]) not in by_id:
            problems.append(f"a Redis span that is not a CLIENT span under a received span: {short(span)}")
        operation = span["attributes"].get("db.operation.name", "")
        if operation != span["name"] and not (span["name"] in ("PIPELINE", "MULTI")
                                              and operation.startswith(span["name"] + " ")):
            problems.append(f"a Redis span not named by its command: {short(span)}")
    polls = [s for s in spans if s["name"] in BACKGROUND_POLLS]
    if polls:
        problems.append(f"{len(polls)} span(s) of background polls, which should not be sampled:{dump(polls, 5)}")

    if lost_context:
        problems.append(outbox_evidence(options.outbox, sorted(set(lost_context)), spans))
    report.append(f"approval trace {approval_trace} ({len(in_approval)} spans): gateway → c2c "
                  f"{', '.join(sorted({c['name'] for c in clients})) or '(no call)'}")
    for trace in sorted(set(job_traces)):
        services = sorted({s["service"] for s in by_trace[trace]})
        report.append(f"job trace {trace} ({len(by_trace[trace])} spans; {', '.join(services)})")
    report.append(f"{len(redis)} Redis span(s), each under the work that sent it; no poll or probe traced")
    if not problems:
        report.append(f"{len(events)} {FUND_DISBURSED_EVENT!r} span(s) in core, in the job traces; no span "
                      f"contains any of {len(secrets)} personal values or credentials")
    return problems, report


# ─── Metrics ────────────────────────────────────────────────────────────────────────────────────

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$")
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


def unescape(value):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def parse_exposition(text):
    """(helps, types, samples) of a Prometheus text exposition; samples are (name, labels, value)."""
    helps, types, samples, problems = {}, {}, [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] == "HELP":
                helps[parts[2]] = parts[3] if len(parts) > 3 else ""
            elif len(parts) >= 3 and parts[1] == "TYPE":
                types[parts[2]] = parts[3] if len(parts) > 3 else ""
            continue
        match = SAMPLE.match(line)
        if not match:
            problems.append(f"line {number} is not a sample: {line!r}")
            continue
        name, label_text, value = match.groups()
        labels = {}
        if label_text:
            position = 0
            while position < len(label_text):
                label = LABEL.match(label_text, position)
                if not label:
                    problems.append(f"line {number}: cannot read labels {label_text!r}")
                    break
                labels[label.group(1)] = unescape(label.group(2))
                position = label.end()
        try:
            samples.append((name, labels, float(value)))
        except ValueError:
            problems.append(f"line {number}: value {value!r} is not a number")
    return helps, types, samples, problems


def family_of(name, types):
    if name in types:
        return name
    for suffix in ("_bucket", "_sum", "_count", "_total", "_created", "_gcount", "_gsum"):
        if name.endswith(suffix) and name[: -len(suffix)] in types:
            return name[: -len(suffix)]
    return name


def check_metrics(options):
    settle("metrics", options.settle, lambda: metric_problems(options))


def metric_problems(options):
    """Scrapes every target (keeping each page in --save DIR) and returns the problems and the report."""
    secrets = [s.lower() for s in load_secrets(options.secrets)]
    problems = []
    pages = {}
    for item in options.target:
        name, url = item.split("=", 1)
        try:
            with urllib.request.urlopen(url, timeout=30) as answer:
                pages[name] = answer.read().decode("utf-8")
        except (urllib.error.URLError, OSError) as error:
            problems.append(f"{name}: GET {url} failed: {error}")
            continue
        if options.save:
            with open(os.path.join(options.save, f"{name}.metrics"), "w", encoding="utf-8") as handle:
                handle.write(pages[name])
    if problems:
        return problems, []

    def value(process, metric, want=None, prefixes=None):
        """The sum of `metric`'s samples in `process` whose labels equal `want` and start with `prefixes`."""
        total, found = 0.0, False
        for name, labels, number in parsed[process][2]:
            if name != metric:
                continue
            if want and any(labels.get(key) != expected for key, expected in want.items()):
                continue
            if prefixes and any(not labels.get(key, "").startswith(p) for key, p in prefixes.items()):
                continue
            total += number
            found = True
        return total if found else None

    def lines(process, metric):
        found = [f"{name}{json.dumps(labels, sort_keys=True)} {number:g}"
                 for name, labels, number in parsed[process][2] if name == metric]
        return ("; ".join(found[:8]) + (" …" if len(found) > 8 else "")) if found else "no such series"

    def expect(process, metric, minimum, want=None, prefixes=None, strictly=False):
        got = value(process, metric, want, prefixes)
        selector = ",".join([f'{k}="{v}"' for k, v in (want or {}).items()]
                            + [f'{k}=~"{v}.*"' for k, v in (prefixes or {}).items()])
        shown = f"{metric}{{{selector}}}" if selector else metric
        if got is None or got < minimum or (strictly and got <= minimum):
            relation = ">" if strictly else "≥"
            problems.append(f"{process}: {shown} {relation} {minimum:g} expected, got "
                            f"{'nothing' if got is None else f'{got:g}'} ({lines(process, metric)})")
        return got

    parsed = {}
    for process, text in pages.items():
        helps, types, samples, errors = parse_exposition(text)
        parsed[process] = (helps, types, samples)
        problems.extend(f"{process}: {error}" for error in errors)
        families = {family_of(name, types) for name, _, _ in samples} | set(types)
        for family in sorted(families):
            if family not in helps or not helps[family].strip():
                problems.append(f"{process}: family {family} has no # HELP")
        for name, labels, _ in samples:
            for key, label in labels.items():
                if key in ("le", "quantile"):
                    continue
                where = f"{process}: {name}{{{key}=\"{label}\"}}"
                if UUID.search(label):
                    problems.append(f"{where}: a label value holds a UUID")
                if EMAIL.search(label):
                    problems.append(f"{where}: a label value holds an e-mail address")
                if any(sum(c.isdigit() for c in m.group(0)) >= 8 for m in PHONE.finditer(label)):
                    problems.append(f"{where}: a label value looks like a phone number")
                if len(label) > LABEL_VALUE_LIMIT:
                    problems.append(f"{where[:200]}…: a label value of {len(label)} characters "
                                    f"(at most {LABEL_VALUE_LIMIT})")
                if any(secret in label.lower() for secret in secrets):
                    problems.append(f"{where}: a label value holds personal data or a credential")
        expect(process, "process_cpu_seconds_total", 0)
        expect(process, "process_resident_memory_bytes", 0, strictly=True)
        expect(process, "rahat_build_info", 1)

    if "gateway" in parsed:
        expect("gateway", "rahat_http_server_request_duration_seconds_count", 1,
               {"route": APPROVE_ROUTE, "method": "POST", "status_class": "2xx"})
        expect("gateway", "rahat_grpc_client_call_duration_seconds_count", 1, prefixes={"rpc_service": "rahat.c2c.v1"})
    for process in ("auth", "core", "ledger", "c2c"):
        if process in parsed:
            expect(process, "rahat_grpc_server_call_duration_seconds_count", 0, strictly=True)
    if "worker" in parsed:
        expect("worker", "rahat_jobs_completed_total", 1, {"queue": "disbursement", "name": "c2c.disbursement.execute"})
        expect("worker", "rahat_disbursement_lines_paid_total", options.lines)
        expect("worker", "rahat_disbursement_value_minor_units_total", 0, strictly=True)
        expect("worker", "rahat_jobs_wait_duration_seconds_count", 1, {"queue": "disbursement"})
    if "ledger" in parsed:
        expect("ledger", "rahat_ledger_transfers_total", options.lines, {"kind": options.transfer_kind})
    if "core" in parsed:
        expect("core", "rahat_events_handled_total", 1, {"group": "core"})
    for process in ("auth", "core", "ledger", "c2c"):
        if process in parsed:
            expect(process, "rahat_db_pool_connections_max", 0, {"service": process}, strictly=True)
            expect(process, "rahat_db_query_duration_seconds_count", 0, {"service": process})
    for process in ("core", "c2c"):
        if process in parsed:
            expect(process, "rahat_db_pool_wait_duration_seconds_count", 0, {"service": process}, strictly=True)
    if "c2c" in parsed:
        expect("c2c", "rahat_disbursements_total", 1, {"outcome": "approved"})
        expect("c2c", "rahat_outbox_relayed_total", 1, {"service": "c2c"})
    return problems, ["metrics: " + ", ".join(
        f"{process} {len({family_of(n, parsed[process][1]) for n, _, _ in parsed[process][2]})} families"
        for process in sorted(parsed)) + "; every family described, the flow counted, no label value holds an id "
        "or personal data"]


# ─── Prometheus ─────────────────────────────────────────────────────────────────────────────────


def need_yaml():
    try:
        import yaml
    except ImportError:  # scripts/check-telemetry installs PyYAML first
        sys.exit(f"{PROG}: PyYAML is missing (python3 -m pip install PyYAML)")
    return yaml


def prometheus_config(options):
    """Copies the shipped configuration, its targets pointed at this run's ports and scraped every second."""
    yaml = need_yaml()
    import shutil

    shutil.copytree(options.source, options.dest)
    config_path = os.path.join(options.dest, "prometheus.yml")
    with open(config_path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    config.setdefault("global", {}).update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    for job in config.get("scrape_configs", []):
        for key in ("scrape_interval", "scrape_timeout"):
            if key in job:
                job[key] = "1s"
    with open(config_path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(config, handle, sort_keys=False)

    addresses = dict(item.split("=", 1) for item in options.target)
    files = sorted({path for job in config.get("scrape_configs", []) for sd in job.get("file_sd_configs", [])
                    for path in sd.get("files", [])})
    if not files:
        sys.exit(f"{PROG}: {config_path} reads no file_sd_configs targets file")
    problems = []
    for relative in files:
        for path in glob.glob(os.path.join(options.dest, relative)):
            with open(path, encoding="utf-8") as handle:
                groups = json.load(handle)
            for group in groups:
                service = group.get("labels", {}).get("service")
                if service not in addresses:
                    problems.append(f"{path}: a target group for service {service!r}, which this run does not start")
                    continue
                group["targets"] = [addresses[service]]
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(groups, handle, indent=2)
    fail(problems, "prometheus configuration")


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as answer:
        document = json.load(answer)
    if document.get("status") != "success":
        raise RuntimeError(f"{url}: {document}")
    return document["data"]


def query(base, expression):
    return get_json(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expression}))["result"]


def poll(what, deadline, attempt):
    """Calls attempt() until it returns (ok, detail) with ok true; fails with the last detail at the deadline."""
    detail = "nothing yet"
    while True:
        try:
            ok, detail = attempt()
        except (urllib.error.URLError, OSError, RuntimeError, ValueError) as error:
            ok, detail = False, f"{type(error).__name__}: {error}"
        if ok:
            return detail
        if time.monotonic() > deadline:
            fail([f"{what}: {detail}"], "prometheus")
        time.sleep(0.5)


def check_prometheus(options):
    yaml = need_yaml()
    base = options.url.rstrip("/")
    deadline = time.monotonic() + options.timeout
    with open(os.path.join(options.config, "prometheus.yml"), encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    jobs = sorted(job["job_name"] for job in config.get("scrape_configs", []))

    def targets_up():
        active = get_json(f"{base}/api/v1/targets?state=active")["activeTargets"]
        health = {t["labels"].get("job"): (t["health"], t.get("lastError", ""), t["scrapeUrl"]) for t in active}
        down = [f"{job}: {health[job][0]} {health[job][2]} {health[job][1]}".strip() if job in health
                else f"{job}: no target" for job in jobs if health.get(job, ("",))[0] != "up"]
        return not down, "targets not up: " + "; ".join(down)

    poll("/api/v1/targets", deadline, targets_up)

    def all_up():
        result = {r["metric"].get("job"): r["value"][1] for r in query(base, "up")}
        wrong = [f"{job}={result.get(job, 'absent')}" for job in jobs if result.get(job) != "1"]
        return not wrong, "up is not 1 for " + ", ".join(wrong)

    poll("up", deadline, all_up)
    print(f"{PROG}: prometheus: {len(jobs)} targets up ({', '.join(jobs)})")

    # Rule groups as the files define them, each of which Prometheus must have loaded and evaluated.
    expected = {}
    recording = []
    for pattern in config.get("rule_files", []):
        for path in sorted(glob.glob(os.path.join(options.config, pattern))):
            with open(path, encoding="utf-8") as handle:
                document = yaml.safe_load(handle) or {}
            for group in document.get("groups", []):
                expected[group["name"]] = len(group.get("rules", []))
                recording.extend((rule["record"], rule["expr"]) for rule in group.get("rules", []) if "record" in rule)
    if not expected:
        fail([f"no rule group in {config.get('rule_files')}"], "prometheus")

    def rules_ok():
        groups = {g["name"]: g for g in get_json(f"{base}/api/v1/rules")["groups"]}
        wrong = []
        for name, count in sorted(expected.items()):
            group = groups.get(name)
            if group is None:
                wrong.append(f"group {name} not loaded")
                continue
            if len(group["rules"]) != count:
                wrong.append(f"group {name}: {len(group['rules'])} of {count} rules loaded")
            for rule in group["rules"]:
                if rule.get("health") != "ok":
                    wrong.append(f"{name}/{rule['name']}: health {rule.get('health')} {rule.get('lastError', '')}")
        return not wrong, "; ".join(wrong)

    poll("/api/v1/rules", deadline, rules_ok)
    print(f"{PROG}: prometheus: {len(expected)} rule groups loaded, every rule healthy ({', '.join(sorted(expected))})")

    # One recording rule that the flow must have fed: the request rate by route, read from the file
    # (the first rule over the gateway's request counter with neither a label filter nor a ratio).
    chosen = next((name for name, expr in recording
                   if "rahat_http_server_request_duration_seconds_count" in expr
                   and "{" not in expr and "/" not in expr and "route" in name), None)
    if chosen is None:
        fail(["no recording rule over rahat_http_server_request_duration_seconds_count by route in the rule files; "
              f"recording rules: {[name for name, _ in recording]}"], "prometheus")

    def recorded():
        result = query(base, f'{chosen}{{route="{APPROVE_ROUTE}"}}')
        return bool(result), f"{chosen}{{route=\"{APPROVE_ROUTE}\"}} has no result yet"

    poll(f"recording rule {chosen}", deadline, recorded)
    fed = sum(1 for name, _ in recording if query(base, name))
    print(f"{PROG}: prometheus: {chosen} has the approval's route; {fed} of {len(recording)} recording rules "
          "have a result")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("receive")
    command.add_argument("port_file")
    command.add_argument("spans")
    command = commands.add_parser("wait-span")
    command.add_argument("spans")
    command.add_argument("--service", required=True)
    command.add_argument("--name", required=True)
    command.add_argument("--timeout", type=float, default=60)
    command = commands.add_parser("check-traces")
    command.add_argument("spans")
    command.add_argument("--secrets", required=True)
    command.add_argument("--logs", nargs="*", default=[], metavar="NAME=FILE")
    command.add_argument("--outbox", help="the outbox rows, one `schema type traceparent` a line")
    command.add_argument("--settle", type=float, default=15, help="seconds to wait for spans still in flight")
    command = commands.add_parser("check-metrics")
    command.add_argument("--secrets", required=True)
    command.add_argument("--target", nargs="+", required=True, metavar="NAME=URL")
    command.add_argument("--lines", type=int, default=3)
    command.add_argument("--transfer-kind", default="disburse")
    command.add_argument("--settle", type=float, default=15, help="seconds to wait for counters still behind")
    command.add_argument("--save", help="a directory to keep each page in, as NAME.metrics")
    command = commands.add_parser("prometheus-config")
    command.add_argument("source")
    command.add_argument("dest")
    command.add_argument("--target", nargs="+", required=True, metavar="SERVICE=HOST:PORT")
    command = commands.add_parser("check-prometheus")
    command.add_argument("url")
    command.add_argument("config")
    command.add_argument("--timeout", type=float, default=90)
    options = parser.parse_args()
    {
        "receive": receive, "wait-span": wait_span, "check-traces": check_traces, "check-metrics": check_metrics,
        "prometheus-config": prometheus_config, "check-prometheus": check_prometheus,
    }[options.command](options)


if __name__ == "__main__":
    main()
