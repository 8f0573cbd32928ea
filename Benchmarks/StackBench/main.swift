import GRPCCore
import GRPCNIOTransportHTTP2
import Hummingbird
import NIOCore
import NIOPosix
import ServerKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Command-line options; see `usage`.
struct BenchOptions {
    enum Mode: String {
        /// Times no-op RPCs against a gRPC server.
        case grpcCall = "grpc-call"
        /// A bare gRPC server (the health service, no interceptors): the transport's own floor.
        case grpcServe = "grpc-serve"
        /// A bare Hummingbird server answering every GET with one file's bytes: the HTTP stack's
        /// own floor.
        case httpServe = "http-serve"
        /// Core's `GetBeneficiary` served as gRPC and as JSON over HTTP/1.1 from the same records.
        case internalServe = "internal-serve"
        /// Times `GetBeneficiary` over gRPC against internal-serve.
        case internalGRPC = "internal-grpc"
        /// Times the same call as JSON over HTTP/1.1 against internal-serve's HTTP port.
        case internalJSON = "internal-json"
    }

    var mode: Mode
    var host = "127.0.0.1"
    var port = 0
    var calls = 20_000
    var warmup = 2_000
    var concurrency = 1
    var file: String?
    var httpPort = 0
    var records = 1_000

    static let usage = """
        usage: StackBench grpc-call --port P [--host H] [--calls N] [--warmup N] [--concurrency C]
               StackBench grpc-serve --port P
               StackBench http-serve --port P --file F
               StackBench internal-serve --port P --http-port Q [--records N]
               StackBench internal-grpc|internal-json --port P [--records N] [--calls N] [--warmup N] [--concurrency C]
        """

    init(arguments: [String]) throws {
        var iterator = arguments.dropFirst().makeIterator()
        guard let mode = iterator.next().flatMap(Mode.init(rawValue:)) else { throw BenchError("no mode given") }
        self.mode = mode
        while let flag = iterator.next() {
            guard let value = iterator.next() else { throw BenchError("missing value for \(flag)") }
            switch flag {
            case "--host": host = value
            case "--port": port = try Self.int(value, flag)
            case "--calls": calls = try Self.int(value, flag)
            case "--warmup": warmup = try Self.int(value, flag)
            case "--concurrency": concurrency = try Self.int(value, flag)
            case "--file": file = value
            case "--http-port": httpPort = try Self.int(value, flag)
            case "--records": records = try Self.int(value, flag)
            default: throw BenchError("unknown option \(flag)")
            }
        }
        guard port > 0 else { throw BenchError("--port is required") }
        guard calls > 0, warmup >= 0, concurrency > 0, records > 0 else {
            throw BenchError("counts must be positive")
        }
        if mode == .httpServe, file == nil { throw BenchError("http-serve needs --file") }
        if mode == .internalServe, httpPort <= 0 { throw BenchError("internal-serve needs --http-port") }
    }

    private static func int(_ value: String, _ flag: String) throws -> Int {
        guard let number = Int(value) else { throw BenchError("\(flag) needs an integer, got \(value)") }
        return number
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Times `calls` no-op RPCs (`grpc.health.v1.Health/Check`) against a running server, over the
/// same HTTP/2 transport, service config and client interceptor the gateway dials services with,
/// so each call's round trip is what one gateway → service hop adds to a request.
func callGRPC(_ options: BenchOptions) async throws {
    let client = GRPCClient(
        transport: try .http2NIOPosix(
            target: .ipv4(address: options.host, port: options.port),
            transportSecurity: .plaintext,
            serviceConfig: RPCDefaults.serviceConfig
        ),
        interceptors: [ClientObservabilityInterceptor(serverAddress: options.host)]
    )
    try await withThrowingDiscardingTaskGroup { group in
        group.addTask { try await client.runConnections() }
        defer { client.beginGracefulShutdown() }
        let health = Grpc_Health_V1_Health.Client(wrapping: client)
        let request = Grpc_Health_V1_HealthCheckRequest()
        try await measure(options) {
            let response = try await health.check(request)
            guard response.status == .serving else { throw BenchError("the server is not serving") }
        }
    }
}

/// Runs `call` `warmup` times, then `calls` times from `concurrency` callers one call at a time
/// each, and prints the latency percentiles and the rate as one `RESULT` line for scripts to read.
func measure(_ options: BenchOptions, _ call: @escaping @Sendable () async throws -> Void) async throws {
    for _ in 0..<options.warmup {
        try await call()
    }
    let clock = ContinuousClock()
    let perCaller = (options.calls + options.concurrency - 1) / options.concurrency
    let started = clock.now
    let samples = try await withThrowingTaskGroup(of: [Duration].self) { callers in
        for _ in 0..<options.concurrency {
            callers.addTask {
                var durations: [Duration] = []
                durations.reserveCapacity(perCaller)
                for _ in 0..<perCaller {
                    let start = clock.now
                    try await call()
                    durations.append(clock.now - start)
                }
                return durations
            }
        }
        var all: [Duration] = []
        for try await durations in callers { all += durations }
        return all.sorted()
    }
    let elapsed = clock.now - started
    func microseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1_000_000 + Int(attoseconds / 1_000_000_000_000)
    }
    func percentile(_ p: Double) -> Int {
        microseconds(samples[min(samples.count - 1, Int((Double(samples.count) * p).rounded(.down)))])
    }
    let rate = Double(samples.count) * 1_000_000 / Double(max(1, microseconds(elapsed)))
    // One line for scripts to read, like RedisBench's.
    print(
        "RESULT calls=\(samples.count) concurrency=\(options.concurrency) p50_us=\(percentile(0.5))"
            + " p90_us=\(percentile(0.9)) p99_us=\(percentile(0.99)) calls_per_s=\(Int(rate))")
}

/// A gRPC server with nothing but the health service: no interceptors, no TLS.
func serveGRPC(_ options: BenchOptions) async throws {
    let health = HealthService()
    health.setStatus(.serving)
    let server = GRPCServer(
        transport: HTTP2ServerTransport.Posix(
            address: .ipv4(host: options.host, port: options.port), transportSecurity: .plaintext),
        services: [health.rpcService])
    try await server.serve()
}

/// Hummingbird with one route answering every GET under `/v1/` with the file's bytes.
func serveHTTP(_ options: BenchOptions, file: String) async throws {
    let bytes = try readFile(file)
    let router = Router()
    router.get("/v1/**") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
    let app = Application(
        router: router, configuration: .init(address: .hostname(options.host, port: options.port)))
    try await app.runService()
}

func readFile(_ path: String) throws -> [UInt8] {
    guard let handle = fopen(path, "rb") else { throw BenchError("cannot open \(path)") }
    defer { fclose(handle) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = fread(&chunk, 1, chunk.count, handle)
        if count == 0 { break }
        bytes += chunk[0..<count]
    }
    return bytes
}

let options: BenchOptions
do {
    options = try BenchOptions(arguments: CommandLine.arguments)
} catch {
    print("\(error)\n\(BenchOptions.usage)")
    exit(2)
}
do {
    switch options.mode {
    case .grpcCall: try await callGRPC(options)
    case .grpcServe: try await serveGRPC(options)
    case .httpServe: try await serveHTTP(options, file: options.file ?? "")
    case .internalServe: try await serveInternalCall(options, httpPort: options.httpPort)
    case .internalGRPC: try await callInternalGRPC(options)
    case .internalJSON: try await callInternalJSON(options)
    }
} catch {
    print("StackBench: \(error)")
    exit(1)
}
