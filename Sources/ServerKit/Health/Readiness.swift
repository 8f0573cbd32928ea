import Foundation
import MetricCatalog
import Metrics
import Synchronization

/// One dependency a process needs before it can take traffic (a database, a downstream service).
package struct ReadinessCheck: Sendable {
    package var name: String
    /// Throws when the dependency is not usable; the error's description becomes the detail.
    package var probe: @Sendable () async throws -> Void

    package init(name: String, probe: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.probe = probe
    }
}

/// The outcome of running every readiness check once.
package struct ReadinessReport: Sendable, Equatable {
    /// One check's outcome.
    package struct Entry: Sendable, Equatable {
        package var name: String
        package var isUp: Bool
        package var detail: String?
    }

    package var entries: [Entry]
    package var isReady: Bool { entries.allSatisfy(\.isUp) }
}

/// Runs readiness checks concurrently, each bounded by a timeout so a hung dependency reads as down.
///
/// A report is reused for `maxAge`, and callers asking while one is being made wait for it: the
/// endpoint is public and unlimited (probes must never be rate limited), so however often it is
/// called, each backend is probed at most once per `maxAge`.
package struct Readiness: Sendable {
    package var checks: [ReadinessCheck]
    package var timeout: Duration
    package var maxAge: Duration
    private let memo = SharedResult<ReadinessReport>()
    private let lastReady = LastReady()

    package init(checks: [ReadinessCheck], timeout: Duration = .seconds(2), maxAge: Duration = .seconds(1)) {
        self.checks = checks
        self.timeout = timeout
        self.maxAge = maxAge
    }

    /// The latest report no older than ``maxAge``, or a fresh one.
    package func run() async -> ReadinessReport {
        await memo.value(maxAge: maxAge) { [self] in await self.probeAll() }
    }

    private func probeAll() async -> ReadinessReport {
        let timeout = self.timeout
        let entries = await withTaskGroup(of: (Int, ReadinessReport.Entry).self) { group in
            for (index, check) in checks.enumerated() {
                group.addTask {
                    (index, await Self.run(check, timeout: timeout))
                }
            }
            var results: [(Int, ReadinessReport.Entry)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        let report = ReadinessReport(entries: entries)
        record(report.isReady)
        return report
    }

    /// `rahat_readiness_ready` and, when it changed, `rahat_readiness_changes_total`: a
    /// dependency that comes and goes shows as changes, which one scrape's gauge would miss.
    private func record(_ ready: Bool) {
        ServerKitMetrics.readinessReady.gauge().record(ready ? 1 : 0)
        let changed = lastReady.value.withLock { last in
            defer { last = ready }
            return last.map { $0 != ready } ?? false
        }
        if changed { ServerKitMetrics.readinessChanges.counter().increment() }
    }

    /// Races the probe against the timeout without waiting for the probe to finish: a probe that
    /// ignores cancellation (a connection pool waiting for a free connection) must not hold the
    /// whole report hostage.
    private static func run(_ check: ReadinessCheck, timeout: Duration) async -> ReadinessReport.Entry {
        let outcome: Result<Void, any Error> = await withCheckedContinuation { continuation in
            let resumed = Mutex(false)
            let finish: @Sendable (Result<Void, any Error>) -> Void = { result in
                let first = resumed.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: result) }
            }
            let probe = Task {
                do {
                    try await check.probe()
                    finish(.success(()))
                } catch {
                    finish(.failure(error))
                }
            }
            Task {
                try? await Task.sleep(for: timeout)
                finish(.failure(ReadinessTimeout(timeout: timeout)))
                probe.cancel()
            }
        }
        switch outcome {
        case .success: return .init(name: check.name, isUp: true, detail: nil)
        case .failure(let error): return .init(name: check.name, isUp: false, detail: String(describing: error))
        }
    }
}

struct ReadinessTimeout: Error, CustomStringConvertible {
    var timeout: Duration
    var description: String { "no answer within \(timeout)" }
}

/// The outcome of the previous probe, shared by copies of one ``Readiness``.
private final class LastReady: Sendable {
    let value = Mutex<Bool?>(nil)
}
