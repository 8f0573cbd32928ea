package import FluentKit
import Foundation
package import Logging
import MetricCatalog
import Metrics
package import Persistence
import SQLKit
import ServerKit
import ServiceLifecycle
import SharedModels
import Synchronization

/// The event bus of the embedded default (no Redis): the outbox relay hands each event straight
/// to the handlers of every subscribing service in the process.
///
/// A delivery that fails is kept in the `event_retries` table of the messaging database and
/// retried with the same back-off as on Redis (`EventConsumerConfiguration`), by `run()`; after
/// the last attempt it stays there as a dead letter with its error until replayed. The outbox row
/// is marked sent only after every handler ran or its failure was recorded, so an event whose
/// delivery a crash interrupted is delivered again after the restart (handlers are idempotent).
package final class InProcessEventBus: Service, Sendable {
    private let database: ServiceDatabase
    private let configuration: EventConsumerConfiguration
    private let logger: Logger
    private let groups = Mutex<[String: [String: [EventHandler]]]>([:])
    private let signal = WakeSignal()

    /// A bus keeping its retries in `database` (migrated with `InProcessEventBus.migrations`).
    package init(
        database: ServiceDatabase,
        configuration: EventConsumerConfiguration = EventConsumerConfiguration(),
        logger: Logger
    ) {
        self.database = database
        self.configuration = configuration
        self.logger = logger
    }

    /// The schema (PostgreSQL) of the messaging database.
    package static let schema = "messaging"

    /// The messaging database's migrations.
    package static var migrations: [any Migration] { [CreateEventRetries()] }

    /// Subscribes a service (`group`) to the topics of `handlers`.
    package func subscribe(group: String, handlers: [EventHandler]) {
        groups.withLock { groups in
            for handler in handlers {
                for topic in handler.topics { groups[group, default: [:]][topic, default: []].append(handler) }
            }
        }
    }

    /// The publisher an outbox relay uses to deliver to this bus.
    package var publisher: any EventPublisher { Publisher(bus: self) }

    private struct Publisher: EventPublisher {
        let bus: InProcessEventBus

        func publish(_ events: [StoredOutboxEvent]) async throws {
            for event in events { try await bus.deliver(event) }
        }
    }

    private func deliver(_ stored: StoredOutboxEvent) async throws {
        let subscribers = groups.withLock { groups in
            groups.compactMap { group, topics in topics[stored.type].map { (group, $0) } }
        }
        guard !subscribers.isEmpty else { return }
        let event: ReceivedEvent
        do {
            event = try ReceivedEvent(json: stored.json)
        } catch {
            for (group, _) in subscribers {
                try await recordFailure(of: stored, group: group, attempts: configuration.maxAttempts, error: error)
            }
            return
        }
        for (group, handlers) in subscribers {
            do {
                try await EventHandling.handle(event, group: group, attempt: 1, handlers: handlers)
            } catch {
                logger.warning(
                    "event handler failed; will retry",
                    metadata: [
                        "group": "\(group)", "event_id": "\(event.id)", "event_type": "\(event.type)",
                        "attempt": "1", "error": "\(error)",
                    ])
                try await recordFailure(of: stored, group: group, attempts: 1, error: error)
            }
        }
    }

    private func recordFailure(
        of event: StoredOutboxEvent, group: String, attempts: Int, error: any Error
    )
        async throws
    {
        let dead = attempts >= configuration.maxAttempts
        let next = Date().addingTimeInterval(configuration.delay(afterAttempt: attempts).seconds)
        try await database.sql.raw(
            """
            INSERT INTO event_retries (consumer, event_id, type, event, attempts, next_attempt_at, last_error, dead, failed_at)
            VALUES (\(bind: group), \(bind: event.id), \(bind: event.type), \(bind: event.json), \(bind: attempts),
                \(bind: next), \(bind: String(describing: error)), \(bind: dead), \(bind: Date()))
            ON CONFLICT (consumer, event_id) DO UPDATE SET attempts = excluded.attempts,
                next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error, dead = excluded.dead,
                failed_at = excluded.failed_at
            """
        ).run()
        signal.signal()
    }

    private struct Retry: Decodable {
        var consumer: String
        var event_id: UUID
        var type: String
        var event: String
        var attempts: Int
    }

    /// Delivers again the failed deliveries whose back-off has passed; returns how many it tried.
    @discardableResult
    package func retryDue(now: Date = Date()) async throws -> Int {
        let due = try await database.sql.raw(
            """
            SELECT consumer, event_id, type, event, attempts FROM event_retries
            WHERE dead = \(bind: false) AND next_attempt_at <= \(bind: now)
            ORDER BY next_attempt_at LIMIT \(bind: configuration.batchSize)
            """
        ).all(decoding: Retry.self)
        for retry in due {
            let handlers = groups.withLock { $0[retry.consumer]?[retry.type] ?? [] }
            let attempt = retry.attempts + 1
            do {
                let event = try ReceivedEvent(json: retry.event)
                try await EventHandling.handle(event, group: retry.consumer, attempt: attempt, handlers: handlers)
                try await database.sql.raw(
                    """
                    DELETE FROM event_retries WHERE consumer = \(bind: retry.consumer) AND event_id = \(bind: retry.event_id)
                    """
                ).run()
            } catch {
                let stored = StoredOutboxEvent(
                    id: retry.event_id, type: retry.type, aggregateID: "", json: retry.event, occurredAt: now)
                try await recordFailure(of: stored, group: retry.consumer, attempts: attempt, error: error)
                if attempt >= configuration.maxAttempts {
                    MessagingMetrics.eventsDeadLettered.counter(retry.consumer).increment()
                    logger.error(
                        "event handler failed for the last time; kept as a dead letter",
                        metadata: [
                            "group": "\(retry.consumer)", "event_id": "\(retry.event_id)",
                            "attempts": "\(attempt)", "error": "\(error)",
                        ])
                }
            }
        }
        return due.count
    }

    private struct Letter: Decodable {
        var event_id: UUID
        var type: String
        var event: String
        var attempts: Int
        var last_error: String
        var failed_at: Date
    }

    /// A group's dead letters, oldest first; `entryID` is the event id.
    package func deadLetters(group: String, limit: Int = 100) async throws -> [DeadLetter] {
        try await database.sql.raw(
            """
            SELECT event_id, type, event, attempts, last_error, failed_at FROM event_retries
            WHERE consumer = \(bind: group) AND dead = \(bind: true) ORDER BY failed_at LIMIT \(bind: limit)
            """
        ).all(decoding: Letter.self).map {
            DeadLetter(
                entryID: $0.event_id.lowercasedString, eventID: $0.event_id.lowercasedString, type: $0.type,
                attempts: $0.attempts, error: $0.last_error, failedAt: $0.failed_at, json: $0.event)
        }
    }

    /// Gives a dead letter a fresh set of attempts, starting now; false if there is none.
    @discardableResult
    package func replay(_ entryID: String, group: String) async throws -> Bool {
        guard let id = UUID(uuidString: entryID) else { return false }
        let rows = try await database.sql.raw(
            """
            UPDATE event_retries SET dead = \(bind: false), attempts = 0, next_attempt_at = \(bind: Date())
            WHERE consumer = \(bind: group) AND event_id = \(bind: id) AND dead = \(bind: true) RETURNING event_id
            """
        ).all()
        signal.signal()
        return !rows.isEmpty
    }

    package func run() async throws {
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                do {
                    try await self.retryDue()
                } catch {
                    self.logger.warning("event retries failed", metadata: ["error": "\(String(reflecting: error))"])
                }
                await self.signal.wait(timeout: min(self.configuration.retryDelay, .seconds(1)))
            }
        } onGracefulShutdown: {
            self.signal.signal()
        }
    }
}

/// The table of failed in-process deliveries awaiting their next attempt, or dead.
struct CreateEventRetries: AsyncMigration {
    var name: String { "messaging.0001_CreateEventRetries" }

    func prepare(on database: any Database) async throws {
        try await database.schema("event_retries")
            .field("consumer", .string, .required)
            .field("event_id", .uuid, .required)
            .field("type", .string, .required)
            .field("event", .string, .required)
            .field("attempts", .int, .required)
            .field("next_attempt_at", .datetime, .required)
            .field("last_error", .string, .required)
            .field("dead", .bool, .required)
            .field("failed_at", .datetime, .required)
            .compositeIdentifier(over: "consumer", "event_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("event_retries").delete()
    }
}
