package import Persistence

/// Where a service's outbox relay sends its events: a stream per topic (Redis), or the
/// subscribers in this process (the embedded default).
package protocol EventPublisher: Sendable {
    /// Publishes `events` in order; throws if any of them may not have been published, so that
    /// the relay offers them all again (consumers absorb repeats by event id).
    func publish(_ events: [StoredOutboxEvent]) async throws
}
