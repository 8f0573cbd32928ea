package import FluentKit
import Foundation
import SQLKit

/// The events a subscribing service has handled, so a handler's effect happens once however
/// often the bus delivers its event (delivery is at-least-once).
package enum ProcessedEvents {
    /// Runs `body` in one transaction with the record that `consumer` processed `eventID`, unless
    /// that record already exists; returns whether `body` ran. A failure in `body` rolls the
    /// record back with the effect, so the event is processed again on its next delivery.
    @discardableResult
    package static func once(
        _ eventID: UUID,
        consumer: String,
        on database: ServiceDatabase,
        _ body: @escaping @Sendable (any Database) async throws -> Void
    ) async throws -> Bool {
        try await database.transaction { transaction in
            guard let sql = transaction as? any SQLDatabase else { throw OutboxRelayError.notSQL }
            let inserted = try await sql.raw(
                """
                INSERT INTO processed_events (consumer, event_id, processed_at)
                VALUES (\(bind: consumer), \(bind: eventID), \(bind: Date()))
                ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id
                """
            ).all()
            guard !inserted.isEmpty else { return false }
            try await body(transaction)
            return true
        }
    }

    /// Deletes records older than `cutoff` (past any redelivery), up to `limit`; returns how many.
    package static func prune(before cutoff: Date, limit: Int, on database: ServiceDatabase) async throws -> Int {
        try await database.sql.raw(
            """
            DELETE FROM processed_events WHERE (consumer, event_id) IN (
                SELECT consumer, event_id FROM processed_events WHERE processed_at < \(bind: cutoff) LIMIT \(bind: limit)
            ) RETURNING event_id
            """
        ).all().count
    }
}

/// Creates a subscribing service's `processed_events` table; each such service lists it among
/// its own migrations.
package struct CreateProcessedEvents: AsyncMigration {
    /// The name stored in the service's migration log, e.g. `core.0010_CreateProcessedEvents`.
    package let name: String

    package init(name: String) {
        self.name = name
    }

    package func prepare(on database: any Database) async throws {
        try await database.schema("processed_events")
            .field("consumer", .string, .required)
            .field("event_id", .uuid, .required)
            .field("processed_at", .datetime, .required)
            .compositeIdentifier(over: "consumer", "event_id")
            .create()
    }

    package func revert(on database: any Database) async throws {
        try await database.schema("processed_events").delete()
    }
}
