import Foundation
import MetricCatalog
import Metrics
import OTelSemanticConventions
import ServerKit
import Tracing

/// How every consumer (Redis Streams or in-process) runs a group's handlers for one event: in a
/// span continuing the trace of the request that caused the event, counted and timed per group.
enum EventHandling {
    /// Runs `handlers` for `event` as consumer group `group`; rethrows the first failure.
    static func handle(_ event: ReceivedEvent, group: String, attempt: Int, handlers: [EventHandler]) async throws {
        let span = InstrumentationSystem.tracer.startSpan(
            "event \(event.type)", context: TraceContext.context(traceparent: event.traceparent) ?? .topLevel,
            ofKind: .consumer)
        span.attributes[OTelAttribute.messaging.system] = "rahat.events"
        span.attributes[OTelAttribute.messaging.operation.type] = "process"
        span.attributes[OTelAttribute.messaging.destination.name] = event.type
        span.attributes[OTelAttribute.messaging.consumer.group.name] = group
        span.attributes[OTelAttribute.messaging.message.id] = event.id.uuidString.lowercased()
        span.attributes["rahat.event.attempt"] = attempt
        let started = ContinuousClock.now
        defer {
            MessagingMetrics.eventsHandleDuration.timer(group).record(duration: .now - started)
            span.end()
        }
        do {
            try await ServiceContext.$current.withValue(span.context) {
                for handler in handlers { try await handler.handle(event) }
            }
            MessagingMetrics.eventsHandled.counter(group).increment()
        } catch {
            MessagingMetrics.eventsFailed.counter(group).increment()
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }
}
