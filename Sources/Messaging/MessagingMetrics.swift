package import MetricCatalog

/// The metrics background work records: jobs, the outbox relay and event consumers.
///
/// Labels are a queue, a job name, a service, a consumer group or a stream: fixed sets named in
/// code, never a job's or an event's id.
package enum MessagingMetrics {
    /// Ready jobs waiting for a worker, per queue.
    package static let jobsQueued = MetricDefinition.gauge(
        "rahat_jobs_queued", labels: ["queue"], help: "Jobs ready to run and waiting for a worker, by queue.")
    /// How long the oldest ready job has waited, per queue.
    package static let jobsOldestReadyAge = MetricDefinition.gauge(
        "rahat_jobs_oldest_ready_age_seconds", labels: ["queue"],
        help: "How long the oldest ready job of a queue has waited for a worker (0 when none waits).")
    /// Jobs parked after their last failed attempt, per queue.
    package static let jobsDeadLetters = MetricDefinition.gauge(
        "rahat_jobs_dead_letters", labels: ["queue"],
        help: "Jobs parked after their last attempt failed (the dead letters), by queue, until retried.")
    /// From when a job could run to when a worker started it.
    package static let jobsWaitDuration = MetricDefinition.durations(
        "rahat_jobs_wait_duration_seconds", labels: ["queue"], buckets: MetricDefinition.backgroundBuckets,
        help: "Time from when a job was due to when a worker started it, by queue.")
    /// One attempt of a job, by how it ended.
    package static let jobsRunDuration = MetricDefinition.durations(
        "rahat_jobs_run_duration_seconds", labels: ["queue", "name", "outcome"],
        buckets: MetricDefinition.backgroundBuckets,
        help: "Time one attempt of a job ran, by queue, job name and outcome (completed or failed).")
    /// Jobs that completed.
    package static let jobsCompleted = MetricDefinition.counter(
        "rahat_jobs_completed_total", labels: ["queue", "name"], help: "Jobs completed, by queue and job name.")
    /// Attempts that failed, whatever followed.
    package static let jobsFailed = MetricDefinition.counter(
        "rahat_jobs_failed_total", labels: ["queue", "name"], help: "Job attempts that failed, by queue and job name.")
    /// Failed attempts that will be tried again.
    package static let jobsRetries = MetricDefinition.counter(
        "rahat_jobs_retries_total", labels: ["queue", "name"],
        help: "Failed job attempts that will be retried after their back-off, by queue and job name.")
    /// Jobs given up on: parked with their error.
    package static let jobsDeadLettered = MetricDefinition.counter(
        "rahat_jobs_dead_lettered_total", labels: ["queue", "name"],
        help: "Jobs parked after their last attempt failed, by queue and job name.")

    /// Committed rows not yet published, per service.
    package static let outboxPending = MetricDefinition.gauge(
        "rahat_outbox_pending", labels: ["service"], help: "Outbox rows committed and not yet published, by service.")
    /// The age of the oldest unpublished row, per service.
    package static let outboxLag = MetricDefinition.gauge(
        "rahat_outbox_lag_seconds", labels: ["service"],
        help: "Age of the oldest outbox row not yet published (0 when none waits), by service.")
    /// Rows published.
    package static let outboxRelayed = MetricDefinition.counter(
        "rahat_outbox_relayed_total", labels: ["service"], help: "Outbox rows published, by service.")
    /// Relay passes that failed (the bus or job store unreachable); they are retried.
    package static let outboxRelayFailures = MetricDefinition.counter(
        "rahat_outbox_relay_failures_total", labels: ["service"],
        help: "Outbox relay passes that failed and will be retried, by service.")
    /// Rows set aside because no retry can publish them.
    package static let outboxEventsFailed = MetricDefinition.counter(
        "rahat_outbox_events_failed_total", labels: ["service"],
        help: "Outbox rows set aside as unpublishable (they do not decode), by service.")

    /// Events a consumer group handled.
    package static let eventsHandled = MetricDefinition.counter(
        "rahat_events_handled_total", labels: ["group"], help: "Events handled, by consumer group.")
    /// Handling attempts that failed; the event is retried.
    package static let eventsFailed = MetricDefinition.counter(
        "rahat_events_failed_total", labels: ["group"], help: "Event handling attempts that failed, by consumer group.")
    /// Events given up on: parked with their error.
    package static let eventsDeadLettered = MetricDefinition.counter(
        "rahat_events_dead_lettered_total", labels: ["group"],
        help: "Events parked after their last handling attempt failed, by consumer group.")
    /// One handling of an event.
    package static let eventsHandleDuration = MetricDefinition.durations(
        "rahat_events_handle_duration_seconds", labels: ["group"], buckets: MetricDefinition.backgroundBuckets,
        help: "Time to handle one event, by consumer group.")
    /// Entries a group has not yet been given.
    package static let eventsConsumerLag = MetricDefinition.gauge(
        "rahat_events_consumer_lag", labels: ["group"],
        help: "Events published that a consumer group has not yet read, by group.")
    /// Entries kept in a stream.
    package static let eventsStreamEntries = MetricDefinition.gauge(
        "rahat_events_stream_entries", labels: ["stream"], help: "Entries kept in an event stream, by stream.")

    /// Every metric this target declares.
    package static let all = [
        jobsQueued, jobsOldestReadyAge, jobsDeadLetters, jobsWaitDuration, jobsRunDuration, jobsCompleted, jobsFailed,
        jobsRetries, jobsDeadLettered, outboxPending, outboxLag, outboxRelayed, outboxRelayFailures,
        outboxEventsFailed, eventsHandled, eventsFailed, eventsDeadLettered, eventsHandleDuration, eventsConsumerLag,
        eventsStreamEntries,
    ]
}
