#!/usr/bin/env python3
"""Where a process's CPU went, by kind of work, from `perf script` output (Swift names demangled).

    perf script -i perf.data | swift demangle --simplified | perf-categories.py [--markdown]

Each sample is a call stack. A kind of work's share is the share of samples with a frame of that
kind anywhere on the stack (inclusive, like a flame graph's widths), so shares overlap and do not
add up to 100%. "self" kinds (reference counting, allocation, kernel scheduling) count a sample
only when the sampled frame itself is of that kind.
"""

import re
import sys

# (name, pattern, inclusive): a sample counts for a kind when a frame matches its pattern.
KINDS = [
    ("HTTP/1 parsing and writing (NIO, Hummingbird)",
     r"HTTPDecoder|BetterHTTPParser|HTTP1ToHTTPServerCodec|HTTPServerHandler|HTTPResponseEncoder|"
     r"HTTPChannelHandler", True),
    ("socket reads, writes and polls (syscalls)", r"Socket\.(write|read)|readFromSocket|writeToSocket|epoll_wait", True),
    ("route handler: OpenAPI conversions and JSON answer", r"Converter\.setResponseBody|UniversalServer", True),
    ("JSONEncoder", r"JSONEncoder\.", True),
    ("JSONDecoder", r"JSONDecoder\.", True),
    ("dates formatted through ICU", r"ISO8601DateFormatter|udat_format|icu_\d+::.*DateFormat", True),
    ("Foundation string bridging (NSString)", r"NSString\.|_slowFromCodeUnits", True),
    ("token check at the edge", r"GatewayAuthenticator", True),
    ("token check in the service", r"AccessTokenVerifier|TokenVerification|IncomingCall", True),
    ("rate limiter", r"RateLimit", True),
    ("gRPC call machinery (client and server executors, transport)",
     r"ClientRPCExecutor|ServerRPCExecutor|InProcessTransport|HTTP2ClientTransport|HTTP2ServerTransport|"
     r"GRPCClientStreamHandler|GRPCServerStreamHandler|NIOHTTP2", True),
    ("call deadlines (Task.sleep, Dispatch timers)", r"_sleep|_dispatch_mgr|_dispatch_timer|timerfd_settime", True),
    ("personal data opened (AES-GCM)", r"PIIVault\.open|AES\.GCM", True),
    ("cache entry read", r"BeneficiaryCache|RedisClient", True),
    ("metrics", r"MetricDefinition|SeriesCache|Prometheus|Metrics\.Timer|MetricsSystem", True),
    ("tracing and logging", r"ObservabilityMiddleware|ObservabilityInterceptor|ObservedCall|Logger\.|LogHandler", True),
    ("Swift generic metadata look-ups", r"_swift_getGenericMetadata|instantiate\w*GenericMetadata|getCache", True),
    ("reference counting (self)", r"^swift_(retain|release)|doDecrementSlow|_swift_release_dealloc", False),
    ("malloc and free (self)", r"^(malloc|_int_malloc|_int_free|cfree|free|malloc_consolidate|unlink_chunk)", False),
    ("kernel: scheduling and wake-ups (self)",
     r"^(finish_task_switch|_raw_spin_unlock\w*|__schedule|schedule\w*|futex\w*|irqentry_exit\w*)", False),
]
COMPILED = [(name, re.compile(pattern), inclusive) for name, pattern, inclusive in KINDS]
FRAME = re.compile(r"^\s*[0-9a-f]+\s+(.*?)(\s+\(.*\))?$")


def samples(text):
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        if len(lines) < 2:
            continue
        frames = []
        for line in lines[1:]:
            match = FRAME.match(line)
            if match:
                frames.append(re.sub(r"\+0x[0-9a-f]+$", "", match.group(1)))
        if frames:
            yield frames


def main():
    counts = {name: 0 for name, _, _ in KINDS}
    total = 0
    for frames in samples(sys.stdin.read()):
        total += 1
        for name, pattern, inclusive in COMPILED:
            if inclusive:
                if any(pattern.search(frame) for frame in frames):
                    counts[name] += 1
            elif pattern.search(frames[0]):
                counts[name] += 1
    if total == 0:
        sys.exit("perf-categories: no samples in the input")
    markdown = "--markdown" in sys.argv
    if markdown:
        print("| kind of work | share of samples |")
        print("|---|---:|")
    for name, _, _ in KINDS:
        share = 100 * counts[name] / total
        print(f"| {name} | {share:.1f}% |" if markdown else f"{share:5.1f}%  {name}")
    print(f"\n{total} samples" if not markdown else f"\n{total} samples.")


if __name__ == "__main__":
    main()
