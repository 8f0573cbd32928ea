package import Foundation
package import JobQueue

/// Where jobs live between their request and their end: Redis (`REDIS_URL`) or the messaging
/// database (the embedded default). Every change a worker makes names the worker, and is refused
/// (`false`) once another worker has taken the job over after its lock expired.
package protocol JobStore: JobMonitor {
    /// Adds jobs; a request whose id is already known is ignored (deduplication).
    func enqueue(_ requests: [JobRequest]) async throws

    /// Takes up to `limit` jobs of `queue` that may run — high before normal, then oldest first —
    /// including ones whose worker's lock expired (stalled jobs), counting an attempt of each;
    /// empty when there is none. `worker` names this claim: only it may change the jobs after.
    func claim(queue: String, worker: String, lock: Duration, limit: Int) async throws -> [Job]

    /// Waits until a job may have become ready in `queue`, at most `timeout`.
    func waitForWork(queue: String, timeout: Duration) async

    /// Extends the worker's lock on a running job; false when the job is no longer its own.
    func extendLock(_ id: String, worker: String, lock: Duration) async throws -> Bool

    /// Records progress (0–100) and what the job is doing.
    func reportProgress(_ id: String, worker: String, percent: Int, message: String?) async throws -> Bool

    /// Ends a job with its result.
    func complete(_ id: String, worker: String, result: String?) async throws -> Bool

    /// Ends an attempt with an error: the job waits for its retry, or fails for good after its
    /// last attempt or when `retrying` is false. Returns the job's new status, nil when it is no
    /// longer the worker's.
    func fail(_ id: String, worker: String, error: String, retrying: Bool) async throws -> JobStatus?

    /// Gives a job back without counting the attempt (a worker shutting down).
    func release(_ id: String, worker: String) async throws -> Bool

    /// How much of `queue` waits: for the queue's depth, age and dead-letter gauges.
    func statistics(queue: String) async throws -> JobQueueStatistics
}

/// A queue's backlog at one moment.
package struct JobQueueStatistics: Sendable, Equatable {
    /// Jobs that may run now and no worker has taken.
    package var ready: Int
    /// When the longest-waiting of them became due; nil when none waits.
    package var oldestReadySince: Date?
    /// Jobs parked after their last attempt failed.
    package var deadLetters: Int

    package init(ready: Int, oldestReadySince: Date?, deadLetters: Int) {
        self.ready = ready
        self.oldestReadySince = oldestReadySince
        self.deadLetters = deadLetters
    }
}

extension JobStore {
    /// Feeds `continuation` from `changes` (any signal that the job may have changed): the job as
    /// it is now, each distinct state after, until it ends. The stores' `follow` share it.
    func feed(
        _ id: String, into continuation: AsyncThrowingStream<Job, any Error>.Continuation,
        waitingWith changes: () async throws -> Bool
    ) async {
        do {
            var last: Job?
            while !Task.isCancelled {
                guard let job = try await job(id) else { break }
                if job != last {
                    continuation.yield(job)
                    last = job
                }
                if job.hasEnded { break }
                guard try await changes() else { break }
            }
            continuation.finish()
        } catch {
            continuation.finish(throwing: error)
        }
    }
}
