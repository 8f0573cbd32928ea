import Foundation
import JobQueue
import OpenAPIRuntime
import ServerKit
import ServiceLifecycle
import SharedModels

/// The jobs API reads the job store directly: the queue is shared infrastructure, like the rate
/// limiter, not a service's data. Callers see the jobs their own requests started; `job:read`
/// (and `job:update` to retry) extends that to everyone's. A job the caller may not see is
/// answered as unknown, so ids of others' work are not confirmed.
extension APIHandler {
    func listJobs(_ input: Operations.ListJobs.Input) async throws -> Operations.ListJobs.Output {
        let principal = try caller.principal
        let store = try jobStore
        let page = try PageRequest<String>.validate(limit: input.query.limit ?? 50, cursor: input.query.cursor).get()
        let owner = principal.permissions.allows(Permission(.job, .read)) ? nil : principal.userID.lowercasedString
        guard owner == nil || Self.ownsJobs(principal) else {
            return .ok(.init(body: .json(.init(items: [], nextCursor: nil))))
        }
        // Jobs are listed newest first: the page's boundary is the oldest job shown.
        let found = try await store.jobs(
            queue: input.query.queue, status: input.query.status.map { JobStatus($0) }, owner: owner,
            limit: page.limit + 1, before: page.after)
        let (shown, next) = page.page(of: found) { $0.id }
        return .ok(.init(body: .json(.init(items: shown.map(Components.Schemas.Job.init), nextCursor: next))))
    }

    func getJob(_ input: Operations.GetJob.Input) async throws -> Operations.GetJob.Output {
        let job = try await visibleJob(input.path.id, needing: .read)
        return .ok(.init(body: .json(.init(job))))
    }

    func retryJob(_ input: Operations.RetryJob.Input) async throws -> Operations.RetryJob.Output {
        let job = try await visibleJob(input.path.id, needing: .update)
        guard try await jobStore.retry(job.id) else {
            throw ServiceError(
                .failedPrecondition, reason: "job.not_failed",
                message: "Only a job that failed its last attempt can be retried; this one is \(job.status.rawValue).")
        }
        let retried = try await visibleJob(job.id, needing: .update)
        return .ok(.init(body: .json(.init(retried))))
    }

    /// Follows a job as server-sent events until it ends, the stream's time is up
    /// (`RAHAT_SSE_MAX_SECONDS`) or the gateway shuts down; each caller may hold only a few.
    func streamJob(_ input: Operations.StreamJob.Input) async throws -> Operations.StreamJob.Output {
        let job = try await visibleJob(input.path.id, needing: .read)
        let admission = try streams.admit(RateLimitMiddleware.caller())
        let updates = try jobStore.follow(job.id)
        let (events, continuation) = AsyncThrowingStream.makeStream(of: ArraySlice<UInt8>.self)
        // The job as it is now goes first, so every stream says something however soon it ends.
        continuation.yield(try Self.serverSentEvent(job))
        let producer = Task {
            // A stream left open would hold the server's drain until its deadline: end it first.
            await withGracefulShutdownHandler {
                do {
                    var last = job
                    for try await update in updates where update != last {
                        continuation.yield(try Self.serverSentEvent(update))
                        last = update
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            } onGracefulShutdown: {
                continuation.finish()
            }
        }
        let maxDuration = streams.limits.maxDuration
        // Proxies close connections that stay silent; a comment line is ignored by clients.
        let heartbeat = Task {
            let deadline = ContinuousClock.now + maxDuration
            while !Task.isCancelled {
                let left = deadline - .now
                if left <= .zero { break }
                try await Task.sleep(for: min(left, .seconds(15)))
                if ContinuousClock.now < deadline { continuation.yield(ArraySlice(": keep-alive\n\n".utf8)) }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in
            producer.cancel()
            heartbeat.cancel()
            admission.end()
        }
        return .ok(.init(body: .textEventStream(HTTPBody(events, length: .unknown, iterationBehavior: .single))))
    }

    /// The job, when it exists and the caller may see it (its owner, or holding `job:<action>`).
    private func visibleJob(_ id: String, needing action: Permission.Action) async throws -> Job {
        let principal = try caller.principal
        guard let job = try await jobStore.job(id),
            (Self.ownsJobs(principal) && job.owner == principal.userID.lowercasedString)
                || principal.permissions.allows(Permission(.job, action))
        else {
            throw ServiceError(.notFound, reason: "job.not_found", message: "There is no job with this id.")
        }
        return job
    }

    /// Whether the caller's user's jobs are the caller's. An API key's are not: it holds
    /// narrower grants than its owner, perhaps for one project, and a job does not say which
    /// project it served; a key follows jobs only with `job:read`.
    private static func ownsJobs(_ principal: Principal) -> Bool {
        principal.method != .apiKey
    }

    private var jobStore: any JobMonitor {
        get throws {
            guard let jobs else {
                throw ServiceError(
                    .unavailable, reason: "jobs.unavailable",
                    message: "This gateway has no job queue configured (REDIS_URL).")
            }
            return jobs
        }
    }

    /// One `job` event: the job as the `Job` schema, on one `data` line.
    private static func serverSentEvent(_ job: Job) throws -> ArraySlice<UInt8> {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let json = try encoder.encode(Components.Schemas.Job(job))
        return ArraySlice(Array("event: job\ndata: ".utf8) + Array(json) + Array("\n\n".utf8))
    }
}

extension JobStatus {
    init(_ status: Components.Schemas.JobStatus) {
        switch status {
        case .waiting: self = .waiting
        case .delayed: self = .delayed
        case .active: self = .active
        case .completed: self = .completed
        case .failed: self = .failed
        }
    }
}

extension Components.Schemas.Job {
    init(_ job: Job) {
        self.init(
            id: job.id,
            queue: job.queue,
            name: job.name,
            status: Components.Schemas.JobStatus(rawValue: job.status.rawValue) ?? .failed,
            priority: job.priority == .high ? .high : .normal,
            attempts: job.attempts,
            maxAttempts: job.maxAttempts,
            progress: job.progress,
            progressMessage: job.progressMessage,
            // A result is JSON by contract; one that is not is shown as the text it is.
            result: job.result.map { text in
                (try? JSONDecoder().decode(OpenAPIValueContainer.self, from: Data(text.utf8)))
                    ?? OpenAPIValueContainer(stringLiteral: text)
            },
            error: job.error,
            createdAt: job.createdAt,
            runAt: job.runAt,
            startedAt: job.startedAt,
            finishedAt: job.finishedAt
        )
    }
}
