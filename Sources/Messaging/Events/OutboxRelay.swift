package import Foundation
package import Logging
import MetricCatalog
import Metrics
package import Persistence
import ServerKit
import ServiceLifecycle
import SharedModels
import Synchronization

/// How a service's outbox relay paces itself.
package struct OutboxRelayConfiguration: Sendable {
    /// Events per transaction (and per Redis pipeline).
    package var batchSize = 500
    /// How long a relay that just found work waits before looking again. Commits in this process
    /// wake it at once; other processes' commits (a replica that runs no relay just now) are seen
    /// at the next look. The wait doubles while it keeps finding nothing, up to `maxIdlePoll`.
    package var idlePoll: Duration = .milliseconds(100)
    package var maxIdlePoll: Duration = .seconds(1)
    /// How long sent events stay in the outbox (for inspection and replay) before pruning.
    package var retention: Duration = .seconds(7 * 86_400)
    /// How often sent events past their retention are pruned.
    package var pruneInterval: Duration = .seconds(3_600)
    /// How often the backlog (`rahat_outbox_pending`, `rahat_outbox_lag_seconds`) is measured.
    package var measureInterval: Duration = .seconds(5)

    /// The defaults.
    package init() {}
}

/// Moves a service's committed outbox events to the event bus (docs/architecture.md, "Events: the outbox"), in the
/// order they were written, marking each sent only after the bus accepted it; runs in every
/// replica of the service, of which one relays at a time (see `Outbox.relay`).
///
/// While the bus is unreachable, events wait in the outbox (they are committed, so nothing is
/// lost); the relay retries with back-off and catches up when the bus returns.
package final class OutboxRelay: Service, Sendable {
    private let service: String
    private let database: ServiceDatabase
    private let publisher: any EventPublisher
    private let configuration: OutboxRelayConfiguration
    private let logger: Logger
    private let warnings = LogThrottle(interval: .seconds(30))
    private let relayed: Counter
    private let failures: Counter
    private let setAside: Counter
    private let pending: Gauge
    private let lag: Gauge

    /// A relay for `service`'s outbox in `database`, publishing through `publisher`.
    package init(
        service: String,
        database: ServiceDatabase,
        publisher: any EventPublisher,
        configuration: OutboxRelayConfiguration = OutboxRelayConfiguration(),
        logger: Logger
    ) {
        self.service = service
        self.database = database
        self.publisher = publisher
        self.configuration = configuration
        self.logger = logger
        self.relayed = MessagingMetrics.outboxRelayed.counter(service)
        self.failures = MessagingMetrics.outboxRelayFailures.counter(service)
        self.setAside = MessagingMetrics.outboxEventsFailed.counter(service)
        self.pending = MessagingMetrics.outboxPending.gauge(service)
        self.lag = MessagingMetrics.outboxLag.gauge(service)
    }

    /// Asks the relay to look now. Transactions committed through the database's
    /// `transaction(_:)` do so themselves.
    package func wake() {
        signal.signal()
    }

    private var signal: WakeSignal { database.commits }

    /// Relays one batch; returns how many events it published or set aside (0: none waiting, or
    /// another replica is relaying).
    package func relayOnce() async throws -> Int {
        // A batch that sets events aside publishes none of them (``UnpublishableEvents``).
        let published = Atomic(false)
        let count = try await Outbox.relay(limit: configuration.batchSize, on: database) {
            [publisher, logger, service, setAside] events in
            do {
                try await publisher.publish(events)
                published.store(true, ordering: .relaxed)
            } catch let unpublishable as UnpublishableEvents {
                for (id, reason) in unpublishable.reasons {
                    logger.error(
                        "outbox event can never be published; set aside as failed",
                        metadata: ["service": "\(service)", "event_id": "\(id)", "reason": "\(reason)"])
                }
                setAside.increment(by: unpublishable.reasons.count)
                throw unpublishable
            }
        }
        if count > 0, published.load(ordering: .relaxed) { relayed.increment(by: count) }
        return count
    }

    /// Reads how far behind the relay is into `rahat_outbox_pending` and `rahat_outbox_lag_seconds`.
    package func measureBacklog(now: Date = Date()) async throws {
        let backlog = try await Outbox.backlog(on: database.db)
        pending.record(backlog.pending)
        lag.record(backlog.oldest.map { max(0, now.timeIntervalSince($0)) } ?? 0)
    }

    /// Deletes sent events older than the retention period; returns how many.
    package func prune(now: Date = Date()) async throws -> Int {
        let cutoff = now.addingTimeInterval(-configuration.retention.seconds)
        var total = 0
        while true {
            let deleted = try await Outbox.prune(sentBefore: cutoff, limit: 10_000, on: database)
            total += deleted
            if deleted < 10_000 { return total }
        }
    }

    package func run() async throws {
        await withGracefulShutdownHandler {
            await self.loop()
        } onGracefulShutdown: {
            self.signal.signal()
        }
    }

    private func loop() async {
        var failedAttempts = 0
        var idle = configuration.idlePoll
        var nextPrune = ContinuousClock.now + .seconds(60)
        var nextMeasure = ContinuousClock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if ContinuousClock.now >= nextMeasure {
                    // Before relaying: a stuck relay's lag must show, not only a working one's.
                    nextMeasure = ContinuousClock.now + configuration.measureInterval
                    try await measureBacklog()
                }
                let count = try await relayOnce()
                if failedAttempts > 0 {
                    logger.info("outbox relay recovered", metadata: ["service": "\(service)"])
                    failedAttempts = 0
                }
                // A full batch means more are probably waiting.
                if count == configuration.batchSize { continue }
                idle = count > 0 ? configuration.idlePoll : min(idle * 2, max(configuration.maxIdlePoll, idle))
                if ContinuousClock.now >= nextPrune {
                    nextPrune = ContinuousClock.now + configuration.pruneInterval
                    let pruned = try await prune()
                    if pruned > 0 {
                        logger.debug("pruned sent outbox events", metadata: ["count": "\(pruned)"])
                    }
                }
                if await signal.wait(timeout: idle) { idle = configuration.idlePoll }
            } catch {
                failedAttempts += 1
                failures.increment()
                if failedAttempts == 1 || warnings.shouldLog() {
                    logger.warning(
                        "outbox relay failed; events wait in the outbox and are retried",
                        metadata: [
                            "service": "\(service)", "error": "\(String(reflecting: error))",
                            "attempt": "\(failedAttempts)",
                        ]
                    )
                }
                // Not woken by commits: while the bus is down, each would cost a failed attempt.
                try? await cancelWhenGracefulShutdown { [failedAttempts] in
                    try await Task.sleep(for: Self.backoff(attempt: failedAttempts))
                }
            }
        }
    }

    /// 100 ms doubling to 5 s.
    static func backoff(attempt: Int) -> Duration {
        .milliseconds(min(100 << min(max(attempt - 1, 0), 6), 5_000))
    }
}
