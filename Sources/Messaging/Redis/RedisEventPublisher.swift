package import Persistence
package import RedisClient
import SharedModels

/// Publishes events to one Redis Stream per topic, `rahat:events:<type>`, e.g.
/// `rahat:events:rahat.core.beneficiary.created`.
///
/// Each entry carries the event id, type and aggregate id as fields beside the full envelope
/// (`event`), so tools can read a stream without parsing JSON. A batch goes out as one pipeline
/// on one connection, so events of one aggregate reach their stream in the order written.
///
/// Publishing never trims a stream: a length cap would drop events a stalled consumer group has
/// not read yet. ``RedisStreamTrimmer`` removes only what every group has acknowledged.
package struct RedisEventPublisher: EventPublisher {
    private let client: RedisClient

    package init(client: RedisClient) {
        self.client = client
    }

    /// The stream a topic's events go to.
    package static func streamKey(topic: String) -> String { "rahat:events:\(topic)" }

    package func publish(_ events: [StoredOutboxEvent]) async throws {
        guard !events.isEmpty else { return }
        let commands = events.map { event in
            RedisCommand(
                "XADD",
                arguments: [
                    Self.streamKey(topic: event.type), "*",
                    "id", event.id.lowercasedString, "type", event.type, "aggregate", event.aggregateID,
                    "event", event.json,
                ]
            )
        }
        for result in try await client.pipeline(commands) { _ = try result.get() }
    }
}
