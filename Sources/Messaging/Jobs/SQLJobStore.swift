package import FluentKit
import Foundation
package import JobQueue
package import Persistence
import SQLKit
import ServerKit
import SharedModels

/// Jobs in the `jobs` table of the messaging database: the embedded default's queue (no Redis).
/// A claim is one `UPDATE … RETURNING` of the best ready row, so two workers never take one job
/// (on PostgreSQL the candidate is also read `FOR UPDATE SKIP LOCKED`); a crash loses nothing,
/// as every state is a committed row and a stalled job's lock runs out.
package final class SQLJobStore: JobStore {
    private let database: ServiceDatabase
    private let signal = WakeSignal()
    /// Any job changed (in this process), for ``follow(_:)``.
    private let changed = WakeSignal()

    /// A store in `database`, migrated with `SQLJobStore.migrations`.
    package init(database: ServiceDatabase) {
        self.database = database
    }

    /// The messaging database's migrations for jobs.
    package static var migrations: [any Migration] { [CreateJobs(), AddJobTrace()] }

    private static let columns = """
        id, queue, name, payload, priority, status, attempts, max_attempts, backoff_ms, progress, progress_message,
        result, error, owner, trace, created_at, run_at, started_at, finished_at
        """

    package func enqueue(_ requests: [JobRequest]) async throws {
        guard !requests.isEmpty else { return }
        let now = Date()
        for chunk in requests.chunks(of: 200) {
            var rows: [SQLQueryString] = []
            for request in chunk {
                let runAt = now.addingTimeInterval(Double(request.delayMilliseconds) / 1000)
                let status: JobStatus = request.delayMilliseconds > 0 ? .delayed : .waiting
                rows.append(
                    """
                    (\(bind: request.id), \(bind: request.queue), \(bind: request.name), \(bind: request.payload),
                    \(bind: request.priority.rank), \(bind: status.rawValue), 0, \(bind: request.maxAttempts),
                    \(bind: request.backoffMilliseconds), 0, \(bind: request.owner), \(bind: request.trace?.stored),
                    \(bind: now), \(bind: runAt))
                    """)
            }
            try await database.sql.raw(
                """
                INSERT INTO jobs (id, queue, name, payload, priority, status, attempts, max_attempts, backoff_ms,
                    progress, owner, trace, created_at, run_at)
                VALUES \(rows.joined(separator: ", ")) ON CONFLICT (id) DO NOTHING
                """
            ).run()
        }
        signal.signal()
    }

    package func claim(queue: String, worker: String, lock: Duration, limit: Int) async throws -> [Job] {
        let now = Date()
        let skipLocked = database.isPostgres ? " FOR UPDATE SKIP LOCKED" : ""
        let rows = try await database.sql.raw(
            """
            UPDATE jobs SET status = 'active', attempts = attempts + 1, locked_by = \(bind: worker),
                locked_until = \(bind: now.addingTimeInterval(lock.seconds)), started_at = \(bind: now), error = NULL
            WHERE id IN (
                SELECT id FROM jobs WHERE queue = \(bind: queue) AND (
                    (status IN ('waiting', 'delayed') AND run_at <= \(bind: now))
                    OR (status = 'active' AND locked_until < \(bind: now)))
                ORDER BY priority DESC, run_at, created_at LIMIT \(bind: max(limit, 1))\(unsafeRaw: skipLocked)
            )
            RETURNING \(unsafeRaw: Self.columns)
            """
        ).all()
        // RETURNING keeps no order: run them in the order they were chosen.
        return try rows.map(Self.job).sorted {
            ($0.priority.rank, $1.runAt, $1.createdAt) > ($1.priority.rank, $0.runAt, $0.createdAt)
        }
    }

    package func waitForWork(queue: String, timeout: Duration) async {
        await signal.wait(timeout: timeout)
    }

    package func extendLock(_ id: String, worker: String, lock: Duration) async throws -> Bool {
        try await update(
            id, worker: worker, "locked_until = \(bind: Date().addingTimeInterval(lock.seconds))")
    }

    package func reportProgress(_ id: String, worker: String, percent: Int, message: String?) async throws -> Bool {
        try await update(
            id, worker: worker,
            "progress = \(bind: min(max(percent, 0), 100)), progress_message = \(bind: message)")
    }

    package func complete(_ id: String, worker: String, result: String?) async throws -> Bool {
        try await update(
            id, worker: worker,
            """
            status = 'completed', progress = 100, result = \(bind: result), finished_at = \(bind: Date()),
            locked_by = NULL, locked_until = NULL
            """)
    }

    package func fail(_ id: String, worker: String, error: String, retrying: Bool) async throws -> JobStatus? {
        guard let current = try await job(id), current.status == .active else { return nil }
        let now = Date()
        let final = !retrying || current.attempts >= current.maxAttempts
        let status: JobStatus = final ? .failed : .delayed
        let wait = JobRequest.retryDelay(
            backoffMilliseconds: current.backoffMilliseconds, afterAttempt: current.attempts)
        let runAt = final ? now : now.addingTimeInterval(wait.seconds)
        let changed = try await update(
            id, worker: worker,
            """
            status = \(bind: status.rawValue), error = \(bind: error), run_at = \(bind: runAt),
            finished_at = \(bind: final ? now : nil), locked_by = NULL, locked_until = NULL
            """)
        if changed, !final { signal.signal() }
        return changed ? status : nil
    }

    package func release(_ id: String, worker: String) async throws -> Bool {
        let changed = try await update(
            id, worker: worker,
            """
            status = 'waiting', attempts = attempts - 1, run_at = \(bind: Date()), locked_by = NULL,
            locked_until = NULL
            """)
        if changed { signal.signal() }
        return changed
    }

    package func job(_ id: String) async throws -> Job? {
        try await database.sql.raw("SELECT \(unsafeRaw: Self.columns) FROM jobs WHERE id = \(bind: id)").first()
            .map(Self.job)
    }

    package func jobs(
        queue: String?, status: JobStatus?, owner: String?, limit: Int, before: String?
    ) async throws -> [Job] {
        var conditions: [SQLQueryString] = ["1 = 1"]
        if let queue { conditions.append("queue = \(bind: queue)") }
        if let status { conditions.append("status = \(bind: status.rawValue)") }
        if let owner { conditions.append("owner = \(bind: owner)") }
        if let before {
            // Compared with the stored time itself: a time read back and bound again need not be
            // the same number to the last bit.
            let anchor: SQLQueryString = "(SELECT created_at FROM jobs WHERE id = \(bind: before))"
            conditions.append("(created_at < \(anchor) OR (created_at = \(anchor) AND id < \(bind: before)))")
        }
        return try await database.sql.raw(
            """
            SELECT \(unsafeRaw: Self.columns) FROM jobs WHERE \(conditions.joined(separator: " AND "))
            ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)
            """
        ).all().map(Self.job)
    }

    package func retry(_ id: String) async throws -> Bool {
        let rows = try await database.sql.raw(
            """
            UPDATE jobs SET status = 'waiting', attempts = 0, run_at = \(bind: Date()), error = NULL,
                finished_at = NULL, progress = 0, progress_message = NULL
            WHERE id = \(bind: id) AND status = 'failed' RETURNING id
            """
        ).all()
        if !rows.isEmpty {
            signal.signal()
            changed.signal()
        }
        return !rows.isEmpty
    }

    package func follow(_ id: String) -> AsyncThrowingStream<Job, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Job.self)
        let task = Task {
            // Changes made in this process wake it at once; the poll sees other processes'.
            await feed(id, into: continuation) {
                await self.changed.wait(timeout: .milliseconds(500))
                return true
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Applies `assignments` to a job the worker still holds.
    private func update(_ id: String, worker: String, _ assignments: SQLQueryString) async throws -> Bool {
        let rows = try await database.sql.raw(
            """
            UPDATE jobs SET \(assignments)
            WHERE id = \(bind: id) AND status = 'active' AND locked_by = \(bind: worker) RETURNING id
            """
        ).all()
        if !rows.isEmpty { changed.signal() }
        return !rows.isEmpty
    }

    package func statistics(queue: String) async throws -> JobQueueStatistics {
        struct Row: Decodable {
            var ready: Int?
            var oldest: Date?
            var dead: Int?
        }
        let now = Date()
        let row = try await database.sql.raw(
            """
            SELECT
                SUM(CASE WHEN status = 'waiting' OR (status = 'delayed' AND run_at <= \(bind: now))
                    THEN 1 ELSE 0 END) AS ready,
                MIN(CASE WHEN status = 'waiting' OR (status = 'delayed' AND run_at <= \(bind: now))
                    THEN run_at END) AS oldest,
                SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS dead
            FROM jobs WHERE queue = \(bind: queue) AND status IN ('waiting', 'delayed', 'failed')
            """
        ).first(decoding: Row.self)
        return JobQueueStatistics(
            ready: row?.ready ?? 0, oldestReadySince: row?.oldest, deadLetters: row?.dead ?? 0)
    }

    private static func job(_ row: any SQLRow) throws -> Job {
        Job(
            id: try row.decode(column: "id", as: String.self),
            queue: try row.decode(column: "queue", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            payload: try row.decode(column: "payload", as: String.self),
            priority: try row.decode(column: "priority", as: Int.self) > 0 ? .high : .normal,
            status: JobStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed,
            attempts: try row.decode(column: "attempts", as: Int.self),
            maxAttempts: try row.decode(column: "max_attempts", as: Int.self),
            backoffMilliseconds: try row.decode(column: "backoff_ms", as: Int.self),
            progress: try row.decode(column: "progress", as: Int.self),
            progressMessage: try row.decode(column: "progress_message", as: String?.self),
            result: try row.decode(column: "result", as: String?.self),
            error: try row.decode(column: "error", as: String?.self),
            owner: try row.decode(column: "owner", as: String?.self),
            trace: try row.decode(column: "trace", as: String?.self).flatMap(JobTrace.init(stored:)),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            runAt: try row.decode(column: "run_at", as: Date.self),
            startedAt: try row.decode(column: "started_at", as: Date?.self),
            finishedAt: try row.decode(column: "finished_at", as: Date?.self)
        )
    }
}

/// The jobs table, with the index a claim walks.
struct CreateJobs: AsyncMigration {
    var name: String { "messaging.0002_CreateJobs" }

    func prepare(on database: any Database) async throws {
        try await database.schema("jobs")
            .field("id", .string, .identifier(auto: false))
            .field("queue", .string, .required)
            .field("name", .string, .required)
            .field("payload", .string, .required)
            .field("priority", .int, .required)
            .field("status", .string, .required)
            .field("attempts", .int, .required)
            .field("max_attempts", .int, .required)
            .field("backoff_ms", .int, .required)
            .field("progress", .int, .required)
            .field("progress_message", .string)
            .field("result", .string)
            .field("error", .string)
            .field("owner", .string)
            .field("locked_by", .string)
            .field("locked_until", .datetime)
            .field("created_at", .datetime, .required)
            .field("run_at", .datetime, .required)
            .field("started_at", .datetime)
            .field("finished_at", .datetime)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("CREATE INDEX jobs_claim_idx ON jobs (queue, status, priority, run_at)").run()
        try await sql.raw("CREATE INDEX jobs_listing_idx ON jobs (created_at, id)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("jobs").delete()
    }
}

/// The trace that asked for each job, so its run joins (or links to) it.
struct AddJobTrace: AsyncMigration {
    var name: String { "messaging.0003_AddJobTrace" }

    func prepare(on database: any Database) async throws {
        try await database.schema("jobs").field("trace", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("jobs").deleteField("trace").update()
    }
}
