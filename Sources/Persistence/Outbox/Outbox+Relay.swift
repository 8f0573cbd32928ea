package import FluentKit
import Foundation
import SQLKit

extension Outbox {
    /// Hands the oldest unsent events, in the order they were written, to `publish`, and marks
    /// them sent only once `publish` returned; returns how many were relayed.
    ///
    /// An event that can never be published (a job request that does not decode) must not hold
    /// back every event after it: `publish` throws ``UnpublishableEvents`` naming it, having
    /// published nothing, and the relay sets it aside as failed, with the reason, and returns
    /// how many it set aside; the rest go out on the next call. A failed event stays in the outbox,
    /// never pruned, until someone looks at it (``failed(limit:on:)``, ``retry(_:on:)``).
    ///
    /// At most one relay of a service works at a time, whatever the number of replicas: on
    /// PostgreSQL the batch runs under a transaction-scoped advisory lock (a replica that cannot
    /// take it relays nothing and returns 0), so events of one aggregate are never published out
    /// of order by two relays racing; `FOR UPDATE SKIP LOCKED` keeps even a relay that bypassed
    /// the lock off rows another is publishing. If `publish` fails, nothing is marked and the
    /// same events come again next time; if the commit fails after `publish`, they are published
    /// twice, which consumers absorb by event id (at-least-once delivery).
    package static func relay(
        limit: Int,
        on database: ServiceDatabase,
        publish: @escaping @Sendable ([StoredOutboxEvent]) async throws -> Void
    ) async throws -> Int {
        guard database.isPostgres else {
            // One process owns a SQLite file, so one relay: no lock to hold. And none may be held
            // while `publish` runs, since in-process handlers write to this file on their own
            // connections and SQLite lets one writer at a time.
            let events = try await unsent(limit: limit, lock: false, on: database.sql)
            guard !events.isEmpty else { return 0 }
            do {
                try await publish(events)
            } catch let unpublishable as UnpublishableEvents {
                return try await markFailed(unpublishable, on: database.sql)
            }
            try await markSent(events, on: database.sql)
            return events.count
        }
        // One lock per service schema: replicas of other services relay beside it.
        let lockKey = AdvisoryLock.key("rahat.outbox.relay.\(database.schema)")
        // Fluent's own transaction: the relay's commits must not wake the relay (`commits`).
        return try await database.db.transaction { transaction in
            guard let sql = transaction as? any SQLDatabase else { throw OutboxRelayError.notSQL }
            let row = try await sql.raw("SELECT pg_try_advisory_xact_lock(\(bind: lockKey)) AS locked").first()
            guard try row?.decode(column: "locked", as: Bool.self) == true else { return 0 }
            let events = try await unsent(limit: limit, lock: true, on: sql)
            guard !events.isEmpty else { return 0 }
            do {
                try await publish(events)
            } catch let unpublishable as UnpublishableEvents {
                return try await markFailed(unpublishable, on: sql)
            }
            try await markSent(events, on: sql)
            return events.count
        }
    }

    private static func unsent(limit: Int, lock: Bool, on sql: any SQLDatabase) async throws -> [StoredOutboxEvent] {
        let rows = try await sql.raw(
            lock
                ? """
                SELECT id, type, aggregate_id, payload, occurred_at FROM outbox
                WHERE sent_at IS NULL AND failed_at IS NULL
                ORDER BY seq LIMIT \(bind: limit) FOR UPDATE SKIP LOCKED
                """
                : """
                SELECT id, type, aggregate_id, payload, occurred_at FROM outbox
                WHERE sent_at IS NULL AND failed_at IS NULL
                ORDER BY rowid LIMIT \(bind: limit)
                """
        ).all()
        return try rows.map(storedEvent)
    }

    /// The event in an outbox row read with its `id`, `type`, `aggregate_id`, `payload` and `occurred_at`.
    private static func storedEvent(_ row: any SQLRow) throws -> StoredOutboxEvent {
        StoredOutboxEvent(
            id: try row.decode(column: "id", as: UUID.self),
            type: try row.decode(column: "type", as: String.self),
            aggregateID: try row.decode(column: "aggregate_id", as: String.self),
            json: try row.decode(column: "payload", as: String.self),
            occurredAt: try row.decode(column: "occurred_at", as: Date.self)
        )
    }

    private static func markSent(_ events: [StoredOutboxEvent], on sql: any SQLDatabase) async throws {
        try await sql.raw("UPDATE outbox SET sent_at = \(bind: Date()) WHERE id IN (\(binds: events.map(\.id)))").run()
    }

    private static func markFailed(_ unpublishable: UnpublishableEvents, on sql: any SQLDatabase) async throws -> Int {
        let now = Date()
        for (id, reason) in unpublishable.reasons {
            try await sql.raw(
                "UPDATE outbox SET failed_at = \(bind: now), failure = \(bind: reason) WHERE id = \(bind: id)"
            ).run()
        }
        return unpublishable.reasons.count
    }

    /// Events set aside as unpublishable, oldest first, with why.
    package static func failed(
        limit: Int, on database: ServiceDatabase
    ) async throws -> [(event: StoredOutboxEvent, failedAt: Date, reason: String)] {
        let rows = try await database.sql.raw(
            """
            SELECT id, type, aggregate_id, payload, occurred_at, failed_at, failure FROM outbox
            WHERE failed_at IS NOT NULL ORDER BY failed_at LIMIT \(bind: limit)
            """
        ).all()
        return try rows.map { row in
            (
                try storedEvent(row), try row.decode(column: "failed_at", as: Date.self),
                try row.decode(column: "failure", as: String?.self) ?? ""
            )
        }
    }

    /// Puts failed events back in line, once whatever made them unpublishable is fixed; returns
    /// how many were failed.
    package static func retry(_ ids: [UUID], on database: ServiceDatabase) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let rows = try await database.sql.raw(
            """
            UPDATE outbox SET failed_at = NULL, failure = NULL
            WHERE failed_at IS NOT NULL AND id IN (\(binds: ids)) RETURNING id
            """
        ).all()
        return rows.count
    }

    /// Deletes up to `limit` events sent before `cutoff`; returns how many. Unsent events are
    /// never deleted, however old.
    package static func prune(sentBefore cutoff: Date, limit: Int, on database: ServiceDatabase) async throws -> Int {
        let sql = database.sql
        let rows = try await sql.raw(
            """
            DELETE FROM outbox WHERE id IN (
                SELECT id FROM outbox WHERE sent_at IS NOT NULL AND sent_at < \(bind: cutoff) LIMIT \(bind: limit)
            ) RETURNING id
            """
        ).all()
        return rows.count
    }

    /// How many events wait to be relayed, and when the oldest of them happened.
    package static func backlog(on database: ServiceDatabase) async throws -> (count: Int, oldest: Date?) {
        let row = try await database.sql.raw(
            "SELECT COUNT(*) AS waiting, MIN(occurred_at) AS oldest FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
        ).first()
        guard let row else { return (0, nil) }
        return (try row.decode(column: "waiting", as: Int.self), try row.decode(column: "oldest", as: Date?.self))
    }
}

/// Thrown by a relay's publisher, before it has published anything, for events in the batch
/// that can never be published: the relay sets them aside as failed instead of retrying the
/// whole batch forever.
package struct UnpublishableEvents: Error, CustomStringConvertible {
    /// Each such event's id and what is wrong with it.
    package var reasons: [UUID: String]

    package init(reasons: [UUID: String]) {
        self.reasons = reasons
    }

    package var description: String {
        "unpublishable outbox events: "
            + reasons.map { "\($0.key.uuidString.lowercased()): \($0.value)" }.joined(separator: "; ")
    }
}

/// Keeps unpublishable events in the outbox, set aside with the reason, rather than holding back
/// every event after them (`failed_at`, `failure`); the unsent index leaves them out.
package struct OutboxFailures: AsyncMigration {
    /// The name stored in the service's migration log, e.g. `core.0016_OutboxFailures`.
    package let name: String

    package init(name: String) {
        self.name = name
    }

    package func prepare(on database: any Database) async throws {
        // One column per statement: SQLite adds one at a time.
        try await database.schema(OutboxRow.schema).field("failed_at", .datetime).update()
        try await database.schema(OutboxRow.schema).field("failure", .string).update()
        guard let sql = database as? any SQLDatabase, sql.dialect.name == "postgresql" else { return }
        try await sql.raw("DROP INDEX IF EXISTS outbox_unsent_idx").run()
        try await sql.raw("CREATE INDEX outbox_unsent_idx ON outbox (seq) WHERE sent_at IS NULL AND failed_at IS NULL")
            .run()
    }

    package func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        if sql.dialect.name == "postgresql" {
            try await sql.raw("DROP INDEX IF EXISTS outbox_unsent_idx").run()
            try await sql.raw("CREATE INDEX outbox_unsent_idx ON outbox (seq) WHERE sent_at IS NULL").run()
        }
        try await sql.raw("ALTER TABLE outbox DROP COLUMN failure").run()
        try await sql.raw("ALTER TABLE outbox DROP COLUMN failed_at").run()
    }
}

/// Why an outbox relay could not run.
package enum OutboxRelayError: Error, CustomStringConvertible {
    case notSQL

    package var description: String {
        switch self {
        case .notSQL: "the service database is not an SQL database"
        }
    }
}

/// Gives the outbox a sequence in commit-independent write order, so the relay publishes events
/// of one aggregate in the order they were written even when they share a millisecond (event ids
/// are time-ordered to the millisecond only). SQLite's `rowid` already is one.
package struct OutboxSequence: AsyncMigration {
    /// The name stored in the service's migration log, e.g. `core.0009_OutboxSequence`.
    package let name: String

    package init(name: String) {
        self.name = name
    }

    package func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase, sql.dialect.name == "postgresql" else { return }
        try await sql.raw("ALTER TABLE outbox ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY").run()
        try await sql.raw("DROP INDEX IF EXISTS outbox_unsent_idx").run()
        try await sql.raw("CREATE INDEX outbox_unsent_idx ON outbox (seq) WHERE sent_at IS NULL").run()
    }

    package func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase, sql.dialect.name == "postgresql" else { return }
        try await sql.raw("DROP INDEX IF EXISTS outbox_unsent_idx").run()
        try await sql.raw("ALTER TABLE outbox DROP COLUMN seq").run()
        try await sql.raw("CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL").run()
    }
}
