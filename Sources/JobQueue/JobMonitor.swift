/// What reading the job queue needs, and no more: the jobs API sees, follows and retries jobs
/// through it without a database or Redis client of its own. The messaging stores implement it.
package protocol JobMonitor: Sendable {
    /// One job.
    func job(_ id: String) async throws -> Job?

    /// Jobs, newest first, optionally only of one queue, status and owner; `before` (a job id)
    /// continues after a page.
    func jobs(queue: String?, status: JobStatus?, owner: String?, limit: Int, before: String?) async throws -> [Job]

    /// Sends a failed job back to its queue with a fresh set of attempts; false unless it failed.
    func retry(_ id: String) async throws -> Bool

    /// The job now, then again after each change of its status or progress; ends after it
    /// completes or fails for good, or at once when there is no such job.
    func follow(_ id: String) -> AsyncThrowingStream<Job, any Error>
}

extension Job {
    /// Completed, or failed for good: nothing more happens to it unless someone retries it.
    package var hasEnded: Bool { status == .completed || status == .failed }
}
