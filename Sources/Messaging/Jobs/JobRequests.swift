package import Foundation
package import JobQueue
package import Persistence

extension OutboxEvent {
    /// The outbox event type that carries a job request to the job queue.
    package static let jobRequestedType = "rahat.jobs.requested"

    /// A job request as an outbox event: appended in a business transaction, the job exists if
    /// and only if that transaction committed (the relay hands it to the job store).
    package static func jobRequested(_ request: JobRequest, at date: Date = Date()) -> OutboxEvent {
        var payload: [String: OutboxValue] = [
            "id": .string(request.id), "queue": .string(request.queue), "name": .string(request.name),
            "payload": .string(request.payload), "priority": .string(request.priority.rawValue),
            "maxAttempts": .int(Int64(request.maxAttempts)),
            "backoffMilliseconds": .int(Int64(request.backoffMilliseconds)),
            "delayMilliseconds": .int(Int64(request.delayMilliseconds)),
        ]
        if let owner = request.owner { payload["owner"] = .string(owner) }
        // The trace itself is the outbox row's (`traceparent`, the appending request's span).
        if request.traceRelation != .child { payload["traceRelation"] = .string(request.traceRelation.rawValue) }
        return OutboxEvent(
            type: jobRequestedType, aggregateType: "job", aggregateID: request.id, payload: payload, occurredAt: date)
    }
}

/// The publisher a relay uses when its service requests jobs: job requests go to the job store
/// (deduplicated there by job id, so a relay that sends a batch twice enqueues each job once),
/// every other event to the event bus, each in its order.
package struct JobRoutingPublisher: EventPublisher {
    private let jobs: any JobStore
    private let events: any EventPublisher

    package init(jobs: any JobStore, events: any EventPublisher) {
        self.jobs = jobs
        self.events = events
    }

    /// Throws ``UnpublishableEvents``, publishing nothing, when a job request in the batch does
    /// not decode: no retry can make it a job, and it must not hold back the events behind it.
    package func publish(_ batch: [StoredOutboxEvent]) async throws {
        var requests: [JobRequest] = []
        var others: [StoredOutboxEvent] = []
        var unreadable: [UUID: String] = [:]
        for event in batch {
            if event.type == OutboxEvent.jobRequestedType {
                do {
                    requests.append(try Self.request(from: event))
                } catch {
                    unreadable[event.id] = "job request does not decode: \(error)"
                }
            } else {
                others.append(event)
            }
        }
        guard unreadable.isEmpty else { throw UnpublishableEvents(reasons: unreadable) }
        try await jobs.enqueue(requests)
        try await events.publish(others)
    }

    private struct Envelope: Decodable {
        struct Data: Decodable {
            var id: String
            var queue: String
            var name: String
            var payload: String
            var priority: JobPriority
            var maxAttempts: Int
            var backoffMilliseconds: Int
            var delayMilliseconds: Int
            var owner: String?
            var traceRelation: JobTrace.Relation?
        }
        var data: Data
        var traceparent: String?
    }

    static func request(from event: StoredOutboxEvent) throws -> JobRequest {
        let envelope = try JSONDecoder().decode(Envelope.self, from: Data(event.json.utf8))
        let data = envelope.data
        let relation = data.traceRelation ?? .child
        return JobRequest(
            id: data.id, queue: data.queue, name: data.name, payload: data.payload, priority: data.priority,
            maxAttempts: data.maxAttempts, backoff: .milliseconds(data.backoffMilliseconds),
            delay: .milliseconds(data.delayMilliseconds), owner: data.owner, traceRelation: relation,
            trace: envelope.traceparent.map { JobTrace(traceparent: $0, relation: relation) })
    }
}
