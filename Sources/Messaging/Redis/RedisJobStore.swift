import Foundation
package import JobQueue
import NIOCore
package import RedisClient
import ServerKit
import SharedModels
import Synchronization

/// Jobs on Redis (`REDIS_URL`): each queue's ready jobs are two streams (high, normal) read by
/// the consumer group `workers`, with every change of a job one Lua script (`RedisJobScripts`).
///
/// A claim reads the next entries with `XREADGROUP` and marks their jobs active and locked in the
/// same script; a job whose worker died is ready again as soon as its lock runs out, so nothing is
/// lost and nothing runs twice at once. An idle worker
/// blocks on `XREAD` until a job is added or a delayed one is due, so a job starts within a
/// round trip of its enqueueing. Completed and failed jobs are kept for `retention`, then pruned.
package final class RedisJobStore: JobStore {
    private let redis: RedisClient
    /// This process's name in the consumer group.
    private let consumer: String
    private let retention: Duration
    private let scripts: RedisJobScripts
    /// Wakes this process's followers of jobs (``follow(_:)``) over one subscription.
    private let changes: JobChangeFeed
    /// Per queue, what the last empty claim saw: the server's time, and when the next delayed
    /// job is due; an idle wait reads entries added after that time and ends when that job is due.
    private let idle = Mutex<[String: IdleQueue]>([:])

    private struct IdleQueue {
        var serverTime: Int64
        var nextDue: Int64?
    }

    /// Completions waiting for the one on its way (group commit: no timer, no added wait).
    private let completions = Mutex(Completions())

    private typealias PendingCompletion = (
        id: String, worker: String, result: String?, reply: CheckedContinuation<Bool, any Error>
    )

    private struct Completions {
        var pending: [PendingCompletion] = []
        var flushing = false
    }

    /// Jobs completed in one script call at most.
    private static let completionBatch = 100

    /// A store on `redis`, keeping ended jobs for `retention` (seven days by default), its keys
    /// under `keyPrefix` (letters, digits, `:`, `-` and `_`).
    package init(redis: RedisClient, retention: Duration = .seconds(7 * 86_400), keyPrefix: String = "rahat:jobs:") {
        self.redis = redis
        self.retention = retention
        self.scripts = RedisJobScripts(keyPrefix: keyPrefix)
        self.changes = JobChangeFeed(redis: redis, channelPrefix: scripts.changesChannel(""))
        self.consumer =
            "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-"
            + UUID().uuidString.prefix(8).lowercased()
    }

    package func enqueue(_ requests: [JobRequest]) async throws {
        for chunk in requests.chunks(of: 100) {
            var arguments: [any RESPArgument] = [chunk.count]
            for request in chunk {
                arguments += [
                    request.id, request.queue, request.name, request.payload, request.priority.rawValue,
                    request.maxAttempts, request.backoffMilliseconds, request.delayMilliseconds, request.owner ?? "",
                    request.trace?.stored ?? "",
                ]
            }
            _ = try await redis.evalScript(scripts.enqueue, keys: [], arguments: arguments)
        }
    }

    /// Ready jobs are the entries of the queue's two ready streams not yet given to the workers'
    /// group, plus delayed jobs now due (a claim moves those); parked jobs are the failed index.
    package func statistics(queue: String) async throws -> JobQueueStatistics {
        var ready = 0
        var oldest: Date?
        for priority in JobPriority.allCases {
            let stream = scripts.readyStream(queue, priority)
            guard try await redis.exists([stream]) > 0 else { continue }
            // No group yet: no claim has read this stream, so every entry waits.
            let workers = try await redis.xinfoGroups(stream).first { $0.name == RedisJobScripts.group }
            if let workers {
                ready += workers.lag ?? 0
            } else {
                ready += try await redis.xlen(stream)
            }
            if let next = try await redis.firstEntryID(of: stream, after: workers?.lastDeliveredID ?? "0-0"),
                let milliseconds = next.split(separator: "-").first.flatMap({ Double($0) })
            {
                let since = Date(timeIntervalSince1970: milliseconds / 1000)
                oldest = min(oldest ?? since, since)
            }
        }
        let prefix = scripts.queuePrefix(queue)
        let nowMilliseconds = Int64(Date().timeIntervalSince1970 * 1000)
        let due = try await redis.send(RedisCommand("ZCOUNT", prefix + "delayed", "-inf", nowMilliseconds))
        ready += due.int ?? 0
        if (due.int ?? 0) > 0, let first = try await redis.zrangeWithScores(prefix + "delayed", start: 0, stop: 0).first
        {
            let since = Date(timeIntervalSince1970: first.score / 1000)
            oldest = min(oldest ?? since, since)
        }
        let dead = try await redis.zcard(prefix + "status:failed")
        return JobQueueStatistics(ready: ready, oldestReadySince: oldest, deadLetters: dead)
    }

    package func claim(queue: String, worker: String, lock: Duration, limit: Int) async throws -> [Job] {
        let reply = try await redis.evalScript(
            scripts.claim, keys: [scripts.queuePrefix(queue)],
            arguments: [consumer, worker, lock.redisMilliseconds, max(limit, 1), retention.redisMilliseconds]
        )
        guard let parts = reply.array, parts.count >= 2, let kind = parts[0].string else {
            throw RedisError.unexpectedReply("the job claim script replied \(reply)")
        }
        if kind == "jobs" {
            idle.withLock { $0[queue] = nil }
            return try (parts[1].array ?? []).map(Self.job)
        }
        let serverTime = parts[1].int.map(Int64.init)
        let nextDue = parts.count > 2 ? parts[2].string.flatMap { Int64($0) } : nil
        idle.withLock { state in
            if let serverTime { state[queue] = IdleQueue(serverTime: serverTime, nextDue: nextDue) }
        }
        return []
    }

    package func waitForWork(queue: String, timeout: Duration) async {
        let seen = idle.withLock { $0[queue] }
        var wait = timeout
        // Entries of the millisecond the claim ran in may be read again: a needless look, never a
        // missed job.
        var after = "$"
        if let seen {
            after = "\(seen.serverTime - 1)-\(UInt64.max)"
            if let due = seen.nextDue {
                wait = min(wait, .milliseconds(max(due - seen.serverTime, 1)))
            }
        }
        let streams = JobPriority.allCases.map { (key: scripts.readyStream(queue, $0), after: after) }
        do {
            _ = try await redis.xread(streams: streams, count: 1, block: wait)
        } catch {
            // The claim that follows meets the same fault and backs off.
        }
    }

    package func extendLock(_ id: String, worker: String, lock: Duration) async throws -> Bool {
        try await run(scripts.extendLock, id, [worker, lock.redisMilliseconds]).int == 1
    }

    package func reportProgress(_ id: String, worker: String, percent: Int, message: String?) async throws -> Bool {
        try await run(
            scripts.progress, id,
            [worker, min(max(percent, 0), 100), message == nil ? "0" : "1", message ?? ""]
        ).int == 1
    }

    /// Completes at once when no completion is on its way; otherwise joins the next call, which
    /// leaves as soon as the one before returns.
    package func complete(_ id: String, worker: String, result: String?) async throws -> Bool {
        try await withCheckedThrowingContinuation { reply in
            let leads = completions.withLock { state -> Bool in
                state.pending.append((id, worker, result, reply))
                guard !state.flushing else { return false }
                state.flushing = true
                return true
            }
            if leads { Task { await self.flushCompletions() } }
        }
    }

    private func flushCompletions() async {
        while true {
            let batch = completions.withLock { state -> [PendingCompletion] in
                guard !state.pending.isEmpty else {
                    state.flushing = false
                    return []
                }
                let batch = Array(state.pending.prefix(Self.completionBatch))
                state.pending.removeFirst(batch.count)
                return batch
            }
            guard !batch.isEmpty else { return }
            var arguments: [any RESPArgument] = []
            arguments.reserveCapacity(batch.count * 4)
            for item in batch {
                arguments += [item.id, item.worker, item.result == nil ? "0" : "1", item.result ?? ""]
            }
            do {
                let reply = try await redis.evalScript(scripts.complete, keys: [], arguments: arguments)
                guard let done = reply.array, done.count == batch.count else {
                    throw RedisError.unexpectedReply("the job completion script replied \(reply)")
                }
                for (item, outcome) in zip(batch, done) { item.reply.resume(returning: outcome.int == 1) }
            } catch {
                for item in batch { item.reply.resume(throwing: error) }
            }
        }
    }

    package func fail(_ id: String, worker: String, error: String, retrying: Bool) async throws -> JobStatus? {
        let jitter = Double.random(in: 0.5...1)
        return try await run(scripts.fail, id, [worker, error, String(jitter), retrying ? "1" : "0"]).string
            .flatMap(JobStatus.init(rawValue:))
    }

    package func release(_ id: String, worker: String) async throws -> Bool {
        try await run(scripts.release, id, [worker]).int == 1
    }

    package func job(_ id: String) async throws -> Job? {
        let fields = try await redis.hgetall(scripts.jobKey(id))
        guard !fields.isEmpty else { return nil }
        return try Self.job(fields.mapValues { String(buffer: $0) })
    }

    package func jobs(
        queue: String?, status: JobStatus?, owner: String?, limit: Int, before: String?
    ) async throws -> [Job] {
        var queues: [String]
        if let queue {
            queues = [queue]
        } else {
            queues = try await redis.send("SMEMBERS", scripts.queues).array?.compactMap(\.string) ?? []
        }
        var anchor: [any RESPArgument] = ["", ""]
        if let before {
            guard let job = try await job(before) else { return [] }
            anchor = [Self.milliseconds(job.createdAt), before]
        }
        var found: [Job] = []
        for queue in queues.sorted() {
            let reply: RESPValue
            if owner == nil, status == .active {
                reply = try await redis.evalScript(
                    scripts.listActive, keys: [scripts.queuePrefix(queue) + "locks"], arguments: [limit] + anchor)
            } else {
                // The narrowest index: an owner's jobs are few, and are then filtered by status.
                let index = owner.map { "owner:\($0)" } ?? status.map { "status:\($0.rawValue)" } ?? "index"
                let statusFilter = owner == nil ? "" : status?.rawValue ?? ""
                reply = try await redis.evalScript(
                    scripts.list, keys: [scripts.queuePrefix(queue) + index],
                    arguments: [limit] + anchor + [statusFilter])
            }
            found += try (reply.array ?? []).map(Self.job)
        }
        // Each queue's page is in order; together they are merged the way one index would be.
        found.sort { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
        return Array(found.prefix(limit))
    }

    package func retry(_ id: String) async throws -> Bool {
        try await redis.evalScript(scripts.retry, keys: [scripts.jobKey(id)], arguments: []).int == 1
    }

    package func follow(_ id: String) -> AsyncThrowingStream<Job, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Job.self)
        let changes = self.changes
        let task = Task {
            let (token, signal) = await changes.follow(id)
            do {
                // Subscribed before the first read, so no change between the two is missed.
                try await changes.ensureSubscribed()
                await feed(id, into: continuation) {
                    try await changes.ensureSubscribed()
                    await signal.wait(timeout: .seconds(5))
                    return true
                }
            } catch {
                continuation.finish(throwing: error)
            }
            await changes.unfollow(id, token: token)
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func run(_ script: RedisScript, _ id: String, _ arguments: [any RESPArgument]) async throws -> RESPValue {
        try await redis.evalScript(script, keys: [scripts.jobKey(id)], arguments: arguments)
    }

    private static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// A job from the flat field/value list a script returns.
    private static func job(_ value: RESPValue) throws -> Job {
        guard let elements = value.array, elements.count.isMultiple(of: 2) else {
            throw RedisError.unexpectedReply("a job script replied a malformed job")
        }
        var fields: [String: String] = [:]
        for index in stride(from: 0, to: elements.count, by: 2) {
            if let name = elements[index].string, let value = elements[index + 1].string { fields[name] = value }
        }
        return try job(fields)
    }

    private static func job(_ fields: [String: String]) throws -> Job {
        func text(_ name: String) throws -> String {
            guard let value = fields[name] else { throw RedisError.unexpectedReply("a job has no \(name)") }
            return value
        }
        func number(_ name: String) throws -> Int {
            guard let value = Int(try text(name)) else {
                throw RedisError.unexpectedReply("a job's \(name) is no number")
            }
            return value
        }
        func date(_ name: String) -> Date? {
            fields[name].flatMap(Double.init).map { Date(timeIntervalSince1970: $0 / 1000) }
        }
        let created = date("createdAt") ?? Date(timeIntervalSince1970: 0)
        return Job(
            id: try text("id"),
            queue: try text("queue"),
            name: try text("name"),
            payload: try text("payload"),
            priority: JobPriority(rawValue: try text("priority")) ?? .normal,
            status: JobStatus(rawValue: try text("status")) ?? .failed,
            attempts: try number("attempts"),
            maxAttempts: try number("maxAttempts"),
            backoffMilliseconds: try number("backoffMs"),
            progress: try number("progress"),
            progressMessage: fields["progressMessage"],
            result: fields["result"],
            error: fields["error"],
            owner: fields["owner"],
            trace: fields["trace"].flatMap(JobTrace.init(stored:)),
            createdAt: created,
            runAt: date("runAt") ?? created,
            startedAt: date("startedAt"),
            finishedAt: date("finishedAt")
        )
    }
}
