package import Foundation
import SharedModels

/// How urgently a job should run: every waiting high job of a queue runs before its normal ones.
package enum JobPriority: String, Sendable, Codable, CaseIterable {
    case high, normal

    /// The order a queue takes waiting jobs in: the higher first.
    package var rank: Int { self == .high ? 1 : 0 }
}

/// Where a job is in its life (BullMQ's names).
package enum JobStatus: String, Sendable, Codable, CaseIterable {
    /// Ready to run.
    case waiting
    /// Waiting for its delay, or for its back-off after a failed attempt.
    case delayed
    /// A worker holds it.
    case active
    /// Done; `result` holds its answer.
    case completed
    /// Its last attempt failed: parked (the dead letters), `error` says why; can be retried.
    case failed
}

/// The trace a job's run belongs to: the request (or job, or event) that asked for it.
package struct JobTrace: Sendable, Codable, Equatable {
    /// How a job's run relates to the trace that asked for it.
    package enum Relation: String, Sendable, Codable {
        /// The run continues the asker's trace.
        case child
        /// The run starts its own trace, linked to the asker's: one request that fans out into
        /// many jobs (a disbursement's batches) would otherwise make one unreadable trace.
        case link
    }

    /// The asker's W3C `traceparent`.
    package var traceparent: String
    package var relation: Relation

    package init(traceparent: String, relation: Relation) {
        self.traceparent = traceparent
        self.relation = relation
    }

    /// One text for a store's column or field: `<relation> <traceparent>`.
    package var stored: String { "\(relation.rawValue) \(traceparent)" }

    /// Reads ``stored``; nil for anything else.
    package init?(stored: String) {
        let parts = stored.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, let relation = Relation(rawValue: String(parts[0])), !parts[1].isEmpty else {
            return nil
        }
        self.init(traceparent: String(parts[1]), relation: relation)
    }
}

/// A request to run a job, as a business operation records it (through its outbox).
package struct JobRequest: Sendable, Codable, Equatable {
    /// Stable and caller-chosen to deduplicate (a second request with an id already known is
    /// ignored), or a fresh UUIDv7.
    package var id: String
    package var queue: String
    /// What to do, e.g. `beneficiary.verify`; the worker runs the handler registered for it.
    package var name: String
    /// The job's input: a JSON object.
    package var payload: String
    package var priority: JobPriority
    package var maxAttempts: Int
    /// The wait after the first failed attempt; it doubles after each further one (with jitter).
    package var backoffMilliseconds: Int
    /// Not before this long after the request.
    package var delayMilliseconds: Int
    /// The user whose action asked for the job, who may follow it.
    package var owner: String?
    /// How the job's run is traced relative to what asked for it (a fan-out links instead).
    package var traceRelation: JobTrace.Relation
    /// The trace that asked for the job; the relay fills it from the outbox row.
    package var trace: JobTrace?

    package init(
        id: String = UUID().uuidString.lowercased(),
        queue: String,
        name: String,
        payload: String = "{}",
        priority: JobPriority = .normal,
        maxAttempts: Int = 3,
        backoff: Duration = .seconds(1),
        delay: Duration = .zero,
        owner: String? = nil,
        traceRelation: JobTrace.Relation = .child,
        trace: JobTrace? = nil
    ) {
        self.id = id
        self.queue = queue
        self.name = name
        self.payload = payload
        self.priority = priority
        self.maxAttempts = max(1, maxAttempts)
        self.backoffMilliseconds = Int(backoff.seconds * 1000)
        self.delayMilliseconds = max(0, Int(delay.seconds * 1000))
        self.owner = owner
        self.traceRelation = traceRelation
        self.trace = trace
    }

    /// The wait before attempt `attempt + 1` after `attempt` failed: the back-off doubled per
    /// earlier failure (at most an hour), then between half and all of it, so that jobs failing
    /// together do not retry together.
    package static func retryDelay(backoffMilliseconds: Int, afterAttempt attempt: Int) -> Duration {
        let doubled = Double(max(backoffMilliseconds, 0)) * pow(2, Double(min(max(attempt - 1, 0), 16)))
        let capped = min(doubled, 3_600_000)
        return .milliseconds(Int64(Double.random(in: (capped / 2)...capped)))
    }
}

/// A job as the store holds it.
package struct Job: Sendable, Equatable {
    package var id: String
    package var queue: String
    package var name: String
    package var payload: String
    package var priority: JobPriority
    package var status: JobStatus
    /// Attempts started so far, the current one included.
    package var attempts: Int
    package var maxAttempts: Int
    package var backoffMilliseconds: Int
    /// 0–100, and what the job is doing.
    package var progress: Int
    package var progressMessage: String?
    /// The answer of a completed job (JSON).
    package var result: String?
    /// Why the latest attempt failed.
    package var error: String?
    package var owner: String?
    /// The trace that asked for the job, when tracing was on.
    package var trace: JobTrace?
    package var createdAt: Date
    /// When it may run (next).
    package var runAt: Date
    package var startedAt: Date?
    package var finishedAt: Date?

    /// A job as a store read it.
    package init(
        id: String, queue: String, name: String, payload: String, priority: JobPriority, status: JobStatus,
        attempts: Int, maxAttempts: Int, backoffMilliseconds: Int, progress: Int, progressMessage: String? = nil,
        result: String? = nil, error: String? = nil, owner: String? = nil, trace: JobTrace? = nil, createdAt: Date,
        runAt: Date, startedAt: Date? = nil, finishedAt: Date? = nil
    ) {
        self.id = id
        self.queue = queue
        self.name = name
        self.payload = payload
        self.priority = priority
        self.status = status
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.backoffMilliseconds = backoffMilliseconds
        self.progress = progress
        self.progressMessage = progressMessage
        self.result = result
        self.error = error
        self.owner = owner
        self.trace = trace
        self.createdAt = createdAt
        self.runAt = runAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}
