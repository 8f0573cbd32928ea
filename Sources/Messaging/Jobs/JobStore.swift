/// Where jobs live between their request and their end: Redis (`REDIS_URL`) or the messaging
/// database (the embedded default). Every change a worker makes names the worker, and is refused
/// (`false`) once another worker has taken the job over after its lock expired.
package protocol JobStore: Sendable {
    /// Adds jobs; a request whose id is already known is ignored (deduplication).
    func enqueue(_ requests: [JobRequest]) async throws

    /// Takes the next job of `queue` that may run — high before normal, then oldest first —
    /// including one whose worker's lock expired (a stalled job), counting an attempt; nil
    /// when there is none.
    func claim(queue: String, worker: String, lock: Duration) async throws -> Job?

    /// Waits until a job may have become ready in `queue`, at most `timeout`.
    func waitForWork(queue: String, timeout: Duration) async

    /// Extends the worker's lock on a running job; false when the job is no longer its own.
    func extendLock(_ id: String, worker: String, lock: Duration) async throws -> Bool

    /// Records progress (0–100) and what the job is doing.
    func reportProgress(_ id: String, worker: String, percent: Int, message: String?) async throws -> Bool

    /// Ends a job with its result.
    func complete(_ id: String, worker: String, result: String?) async throws -> Bool

    /// Ends an attempt with an error: the job waits for its retry, or fails for good after its
    /// last attempt. Returns the job's new status, nil when it is no longer the worker's.
    func fail(_ id: String, worker: String, error: String) async throws -> JobStatus?

    /// Gives a job back without counting the attempt (a worker shutting down).
    func release(_ id: String, worker: String) async throws -> Bool

    /// One job.
    func job(_ id: String) async throws -> Job?

    /// Jobs, newest first, optionally of one queue and status; `before` continues after a page.
    func jobs(queue: String?, status: JobStatus?, limit: Int, before: String?) async throws -> [Job]

    /// Sends a failed job back to its queue with a fresh set of attempts; false unless it failed.
    func retry(_ id: String) async throws -> Bool
}
