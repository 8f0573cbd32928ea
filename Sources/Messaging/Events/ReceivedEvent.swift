package import Foundation

/// An event as a subscriber receives it: the envelope's fields, and its `data` for decoding.
package struct ReceivedEvent: Sendable {
    package var id: UUID
    package var type: String
    package var version: Int
    package var occurredAt: Date
    package var aggregateType: String
    package var aggregateID: String
    /// W3C trace context of the request that caused the event.
    package var traceparent: String?
    /// The whole envelope, as the outbox wrote it.
    package var json: String

    private struct Envelope: Decodable {
        var id: UUID
        var type: String
        var version: Int
        var occurredAt: Date
        var aggregateType: String
        var aggregateId: String
        var traceparent: String?
    }

    /// Reads an envelope; throws `EventDecodingError` when it is not one.
    package init(json: String) throws {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let envelope: Envelope
        do {
            envelope = try decoder.decode(Envelope.self, from: Data(json.utf8))
        } catch {
            throw EventDecodingError(reason: "not an event envelope: \(error)")
        }
        self.id = envelope.id
        self.type = envelope.type
        self.version = envelope.version
        self.occurredAt = envelope.occurredAt
        self.aggregateType = envelope.aggregateType
        self.aggregateID = envelope.aggregateId
        self.traceparent = envelope.traceparent
        self.json = json
    }

    /// The event's `data`, decoded as `T`.
    package func data<T: Decodable>(as type: T.Type) throws -> T {
        try JSONDecoder().decode(EventBody<T>.self, from: Data(json.utf8)).data
    }
}

private struct EventBody<T: Decodable>: Decodable {
    var data: T
}

/// An event that cannot be read; it goes to the dead letters at once, as retrying cannot help.
package struct EventDecodingError: Error, CustomStringConvertible {
    package var reason: String
    package var description: String { reason }

    package init(reason: String) {
        self.reason = reason
    }
}

/// What a subscribing service does with the events of some topics.
package struct EventHandler: Sendable {
    /// Event types (topics), e.g. `rahat.core.beneficiary.created`.
    package var topics: [String]
    /// Handles one event. Must be idempotent (`ProcessedEvents.once`): delivery is at-least-once.
    package var handle: @Sendable (ReceivedEvent) async throws -> Void

    package init(topics: [String], handle: @escaping @Sendable (ReceivedEvent) async throws -> Void) {
        self.topics = topics
        self.handle = handle
    }
}

/// How a consumer retries and when it gives up on an event.
package struct EventConsumerConfiguration: Sendable {
    /// Deliveries before an event is parked in the dead letters.
    package var maxAttempts = 5
    /// The wait before the second delivery; it doubles for each further one, up to `maxRetryDelay`.
    package var retryDelay: Duration = .seconds(1)
    package var maxRetryDelay: Duration = .seconds(300)
    /// Entries read at once.
    package var batchSize = 100
    /// How long one read waits for new entries.
    package var block: Duration = .seconds(1)
    /// How long another process's unacknowledged event must have sat before this one takes it
    /// over (that process is presumed dead): longer than handling a whole batch takes.
    package var claimAfter: Duration = .seconds(60)

    /// The defaults.
    package init() {}

    /// The wait after `attempt` failed deliveries, before the next.
    package func delay(afterAttempt attempt: Int) -> Duration {
        let doubled = retryDelay * (1 << min(max(attempt - 1, 0), 20))
        return min(doubled, maxRetryDelay)
    }
}
