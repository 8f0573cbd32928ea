import Foundation
import JobQueue
import Logging
import Messaging
import RedisClient
import ServiceLifecycle
import SharedModels
import Synchronization
import UnixSignals

/// The job queue benchmark's processes (driven by `scripts/bench-jobs`):
///
/// - `JobBench enqueue --redis URL --prefix P --jobs N`: enqueues N no-op jobs in batches of 100
///   and prints `enqueued N in S s`;
/// - `JobBench worker --redis URL --prefix P --concurrency C`: runs a `JobWorker` with a no-op
///   handler until SIGTERM/SIGINT, printing each started job's enqueue-to-start latency (µs) to
///   the file named by `--latencies` when given;
/// - `JobBench latency --redis URL --prefix P --jobs N`: enqueues one job at a time into an idle
///   queue and waits for it to complete, N times (a worker must run).
///
/// Every job carries its enqueue time (wall clock, µs) in its payload; the worker and this
/// process run on one machine, so their clocks agree.
@main
struct JobBench {
    static let queue = "bench"
    static let name = "bench.noop"

    static func main() async {
        do {
            try await run()
        } catch {
            FileHandle.standardError.write(Data("JobBench: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run() async throws {
        var arguments = CommandLine.arguments.dropFirst()
        guard let mode = arguments.popFirst() else { throw BenchError(usage) }
        var options: [String: String] = [:]
        while let flag = arguments.popFirst() {
            guard flag.hasPrefix("--"), let value = arguments.popFirst() else { throw BenchError(usage) }
            options[String(flag.dropFirst(2))] = value
        }
        guard let url = options["redis"], let prefix = options["prefix"] else { throw BenchError(usage) }
        var configuration = try RedisConfiguration(url: url)
        configuration.poolSize = Int(options["pool"] ?? "") ?? 8
        configuration.commandTimeout = .seconds(30)
        var logger = Logger(label: "rahat.bench.jobs")
        logger.logLevel = .warning
        let client = RedisClient(configuration: configuration, logger: logger)
        let store = RedisJobStore(redis: client, keyPrefix: prefix)
        let count = Int(options["jobs"] ?? "") ?? 10_000
        switch mode {
        case "enqueue":
            let started = ContinuousClock.now
            var next = 0
            while next < count {
                let batch = (next..<min(next + 100, count)).map { request($0) }
                try await store.enqueue(batch)
                next += batch.count
            }
            print("enqueued \(count) in \((ContinuousClock.now - started).seconds) s")
        case "latency":
            var samples: [Double] = []
            for index in 0..<count {
                let id = "latency-\(index)-\(UUID().uuidString.prefix(8))"
                try await store.enqueue([request(index, id: id)])
                var job = try await store.job(id)
                while job?.status != .completed {
                    try await Task.sleep(for: .microseconds(200))
                    job = try await store.job(id)
                }
                if let job, let started = job.startedAt {
                    samples.append(started.timeIntervalSince(job.createdAt) * 1000)
                }
                // An idle queue between jobs: the worker is back in its blocking read.
                try await Task.sleep(for: .milliseconds(20))
            }
            samples.sort()
            func percentile(_ p: Double) -> Double { samples[min(samples.count - 1, Int(Double(samples.count) * p))] }
            guard !samples.isEmpty else { throw BenchError("no job completed") }
            print(
                "enqueue-to-start over \(samples.count) jobs (Redis server clock, whole ms): "
                    + String(format: "p50 %.0f p90 %.0f p99 %.0f", percentile(0.5), percentile(0.9), percentile(0.99)))
        case "worker":
            var workerConfiguration = JobWorkerConfiguration()
            workerConfiguration.defaultConcurrency = Int(options["concurrency"] ?? "") ?? 32
            let latencies = LatencyLog()
            let recording = options["latencies"] != nil
            // Records only in the latency run: throughput is measured with a handler that does nothing.
            let handler = JobHandler(queue: queue, name: name) { context in
                if recording { latencies.record(context.job.payload) }
                return nil
            }
            let worker = JobWorker(
                store: store, handlers: [handler], configuration: workerConfiguration, logger: logger)
            let group = ServiceGroup(
                configuration: .init(
                    services: [.init(service: client), .init(service: worker)],
                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            if let path = options["latencies"] { try latencies.write(to: path) }
        default:
            throw BenchError(usage)
        }
        if mode != "worker" { await client.shutdown() }
    }

    static func request(_ index: Int, id: String? = nil) -> JobRequest {
        let micros = Int64(Date().timeIntervalSince1970 * 1_000_000)
        return JobRequest(
            id: id ?? "job-\(index)-\(UUID().uuidString.prefix(8))", queue: queue, name: name,
            payload: #"{"enqueuedAtMicros":\#(micros)}"#)
    }

    static let usage = """
        usage: JobBench enqueue|worker|latency --redis URL --prefix KEYPREFIX [--jobs N] \
        [--concurrency C] [--latencies FILE] [--pool N]
        """
}

/// Enqueue-to-start latencies the handler saw, in µs.
final class LatencyLog: Sendable {
    private let samples = Mutex<[Int64]>([])

    func record(_ payload: String) {
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        guard let start = payload.range(of: #""enqueuedAtMicros":"#),
            let micros = Int64(payload[start.upperBound...].prefix { $0.isNumber })
        else { return }
        samples.withLock { $0.append(now - micros) }
    }

    func write(to path: String) throws {
        let text = samples.withLock { $0.map(String.init).joined(separator: "\n") }
        try (text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
