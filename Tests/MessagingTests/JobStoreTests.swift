import FluentKit
import Foundation
import JobQueue
import Logging
import Messaging
import Operations
import Persistence
import RedisClient
import SQLKit
import ServerKit
import ServiceLifecycle
import Synchronization
import TestInfrastructure
import Testing

/// Where a test's jobs live: the messaging database (the embedded default), or Redis.
enum JobBackend: Sendable, CustomStringConvertible {
    case database(DatabaseEngine)
    case redis

    var description: String {
        switch self {
        case .database(let engine): "\(engine)"
        case .redis: "redis"
        }
    }

    static var available: [JobBackend] {
        DatabaseEngine.available.map { .database($0) } + (SharedStateBackend.available.contains(.redis) ? [.redis] : [])
    }

    /// The database engine of the test's other tables (the outbox): Redis tests use SQLite.
    var engine: DatabaseEngine {
        if case .database(let engine) = self { return engine }
        return .sqlite
    }
}

@Suite("Jobs")
struct JobStoreTests {
    /// Runs `body` with an empty store of `backend`.
    static func withStore<T: Sendable>(
        _ backend: JobBackend, _ body: (any JobStore) async throws -> T
    ) async throws -> T {
        switch backend {
        case .redis:
            return try await TestRedis.withClient { client in
                try await body(
                    RedisJobStore(
                        redis: client, keyPrefix: TestRedis.jobsKeyPrefix()))
            }
        case .database(let engine):
            return try await TestDatabase.with(engine, migrating: []) { testDatabase in
                let database = try ServiceDatabase(
                    configuration: testDatabase.configuration(for: "messaging"), schema: "messaging", logger: .test)
                do {
                    try await database.migrate(SQLJobStore.migrations)
                    let result = try await body(SQLJobStore(database: database))
                    await database.shutdown()
                    return result
                } catch {
                    await database.shutdown()
                    throw error
                }
            }
        }
    }

    /// What handlers did, shared with them.
    final class Runs: Sendable {
        let byJob = Mutex<[String: Int]>([:])
        let started = Atomic<Int>(0)
    }

    @Test(
        "a claim takes high before normal, then oldest first; delayed jobs wait; ids deduplicate",
        arguments: JobBackend.available)
    func claimOrder(_ backend: JobBackend) async throws {
        try await Self.withStore(backend) { store in
            // given
            try await store.enqueue([
                JobRequest(id: "n1", queue: "q", name: "x"),
                JobRequest(id: "later", queue: "q", name: "x", priority: .high, delay: .seconds(60)),
                JobRequest(id: "h1", queue: "q", name: "x", priority: .high),
                JobRequest(id: "n2", queue: "q", name: "x"),
                JobRequest(id: "other", queue: "elsewhere", name: "x", priority: .high),
            ])
            try await store.enqueue([JobRequest(id: "n1", queue: "q", name: "changed", payload: #"{"a":1}"#)])

            // when
            var order: [String] = []
            while let job = try await store.claim(queue: "q", worker: "w", lock: .seconds(30), limit: 1).first {
                order.append(job.id)
            }
            let rest = try await store.claim(queue: "elsewhere", worker: "w", lock: .seconds(30), limit: 5)

            // then
            #expect(order == ["h1", "n1", "n2"])
            #expect(rest.map(\.id) == ["other"])
            let first = try #require(try await store.job("n1"))
            #expect(first.name == "x")
            #expect(first.status == .active)
            #expect(first.attempts == 1)
            #expect(try await store.job("later")?.status == .delayed)
        }
    }

    @Test(
        "a queue's backlog counts the jobs ready now, when the oldest became due, and the parked ones",
        arguments: JobBackend.available)
    func statistics(_ backend: JobBackend) async throws {
        try await Self.withStore(backend) { store in
            // given three ready jobs, one delayed for an hour, and one that failed for good
            let before = Date().addingTimeInterval(-1)
            try await store.enqueue([
                JobRequest(id: "r1", queue: "work", name: "x"), JobRequest(id: "r2", queue: "work", name: "x"),
                JobRequest(id: "r3", queue: "work", name: "x"),
                JobRequest(id: "later", queue: "work", name: "x", delay: .seconds(3600)),
                JobRequest(id: "doomed", queue: "work", name: "x", priority: .high, maxAttempts: 1),
                JobRequest(id: "elsewhere", queue: "other", name: "x"),
            ])
            let empty = try await store.statistics(queue: "idle")
            let claimed = try await store.claim(queue: "work", worker: "w", lock: .seconds(30), limit: 1)
            let doomed = try #require(claimed.first)
            _ = try await store.fail(doomed.id, worker: "w", error: "boom", retrying: false)

            // when
            let statistics = try await store.statistics(queue: "work")

            // then
            #expect(empty == JobQueueStatistics(ready: 0, oldestReadySince: nil, deadLetters: 0))
            #expect(doomed.id == "doomed")
            #expect(statistics.ready == 3)
            #expect(statistics.deadLetters == 1)
            let oldest = try #require(statistics.oldestReadySince)
            #expect(oldest >= before && oldest <= Date().addingTimeInterval(1))
        }
    }

    @Test("two workers run 60 jobs, each once, and record their results", arguments: JobBackend.available)
    func workersShareTheLoad(_ backend: JobBackend) async throws {
        try await Self.withStore(backend) { store in
            // given
            let runs = Runs()
            let handler = JobHandler(queue: "work", name: "double") { context in
                runs.byJob.withLock { $0[context.job.id, default: 0] += 1 }
                try await context.progress(50, "halfway")
                let number = Int(context.job.payload.filter(\.isNumber)) ?? 0
                return #"{"doubled":\#(number * 2)}"#
            }
            var configuration = JobWorkerConfiguration()
            configuration.defaultConcurrency = 3
            configuration.idleWait = .milliseconds(50)
            let workers = (0..<2).map { _ in
                JobWorker(store: store, handlers: [handler], configuration: configuration, logger: .test)
            }
            try await store.enqueue(
                (0..<60).map { JobRequest(id: "job-\($0)", queue: "work", name: "double", payload: #"{"n":\#($0)}"#) })

            // when
            try await Self.running(workers) {
                try await Self.waitUntil {
                    try await store.jobs(queue: "work", status: .completed, owner: nil, limit: 500, before: nil).count
                        == 60
                }
            }

            // then
            #expect(runs.byJob.withLock { $0.count } == 60)
            #expect(runs.byJob.withLock { $0.values.allSatisfy { $0 == 1 } })
            let job = try #require(try await store.job("job-21"))
            #expect(job.result == #"{"doubled":42}"#)
            #expect(job.progress == 100)
            #expect(job.attempts == 1)
            #expect(job.finishedAt != nil)
        }
    }

    @Test(
        "a job that keeps failing is retried with back-off, fails for good with its error, and can be retried",
        arguments: JobBackend.available)
    func failures(_ backend: JobBackend) async throws {
        try await Self.withStore(backend) { store in
            // given a handler that fails until told otherwise
            let healthy = Atomic<Bool>(false)
            let runs = Runs()
            let handler = JobHandler(queue: "work", name: "flaky") { context in
                runs.started.add(1, ordering: .relaxed)
                guard healthy.load(ordering: .relaxed) else { throw Broken(message: "payee bank unreachable") }
                return nil
            }
            var configuration = JobWorkerConfiguration()
            configuration.idleWait = .milliseconds(20)
            let worker = JobWorker(store: store, handlers: [handler], configuration: configuration, logger: .test)
            try await store.enqueue([
                JobRequest(id: "flaky-1", queue: "work", name: "flaky", maxAttempts: 3, backoff: .milliseconds(100))
            ])

            // when
            let started = ContinuousClock.now
            try await Self.running([worker]) {
                try await Self.waitUntil { try await store.job("flaky-1")?.status == .failed }
            }
            let elapsed = ContinuousClock.now - started

            // then three attempts, at least 50 + 100 ms apart (jittered back-off), the error kept
            let failed = try #require(try await store.job("flaky-1"))
            #expect(failed.attempts == 3)
            #expect(failed.error == "payee bank unreachable")
            #expect(runs.started.load(ordering: .relaxed) == 3)
            #expect(elapsed >= .milliseconds(150))
            #expect(try await store.retry("flaky-1"))
            #expect(try await store.retry("flaky-1") == false)

            // when it is retried after the cause is fixed
            healthy.store(true, ordering: .relaxed)
            try await Self.running([worker]) {
                try await Self.waitUntil { try await store.job("flaky-1")?.status == .completed }
            }
            #expect(try await store.job("flaky-1")?.attempts == 1)
        }
    }

    @Test(
        "a job that cannot succeed fails at once; one paused for shutdown goes back uncounted",
        arguments: JobBackend.available)
    func unrecoverableAndInterrupted(_ backend: JobBackend) async throws {
        try await Self.withStore(backend) { store in
            // given one handler that refuses its input and one that is interrupted once
            let runs = Runs()
            let refusing = JobHandler(queue: "work", name: "refuse") { _ in
                runs.byJob.withLock { $0["refuse", default: 0] += 1 }
                throw UnrecoverableJobError("the payload names no beneficiary")
            }
            let pausing = JobHandler(queue: "work", name: "pause") { _ in
                let run = runs.byJob.withLock { runs in
                    runs["pause", default: 0] += 1
                    return runs["pause", default: 0]
                }
                if run == 1 { throw JobInterrupted() }
                return nil
            }
            var configuration = JobWorkerConfiguration()
            configuration.idleWait = .milliseconds(20)
            let worker = JobWorker(
                store: store, handlers: [refusing, pausing], configuration: configuration, logger: .test)
            try await store.enqueue([
                JobRequest(id: "refused", queue: "work", name: "refuse", maxAttempts: 5),
                JobRequest(id: "paused", queue: "work", name: "pause", maxAttempts: 5),
            ])

            // when
            try await Self.running([worker]) {
                try await Self.waitUntil {
                    let refused = try await store.job("refused")?.status
                    let paused = try await store.job("paused")?.status
                    return refused == .failed && paused == .completed
                }
            }

            // then
            let refused = try #require(try await store.job("refused"))
            #expect(refused.attempts == 1)
            #expect(refused.error == "the payload names no beneficiary")
            #expect(runs.byJob.withLock { $0["refuse"] } == 1)
            #expect(try await store.job("paused")?.attempts == 1)
            #expect(runs.byJob.withLock { $0["pause"] } == 2)
        }
    }

    @Test("a job whose worker died is taken over once its lock runs out", arguments: JobBackend.available)
    func stalled(_ backend: JobBackend) async throws {
        try await Self.withStore(backend) { store in
            // given a job claimed by a worker that then vanished
            try await store.enqueue([JobRequest(id: "orphan", queue: "work", name: "noop")])
            // (The lock starts somewhere between the call and its answer.)
            let calling = ContinuousClock.now
            _ = try await store.claim(queue: "work", worker: "vanished", lock: .seconds(2), limit: 1)
            let answered = ContinuousClock.now
            let early = try await store.claim(queue: "work", worker: "other", lock: .seconds(30), limit: 1).first
            if ContinuousClock.now - calling < .seconds(2) { #expect(early == nil) }

            // when
            try await Task.sleep(until: answered + .milliseconds(2_200), clock: .continuous)
            // (On a machine slow enough that the lock ran out before the first look, that look took it.)
            var taken = early
            if taken == nil {
                taken = try await store.claim(queue: "work", worker: "other", lock: .seconds(30), limit: 1).first
            }

            // then the second attempt is the new worker's, and the old one can no longer touch it
            #expect(taken?.id == "orphan")
            #expect(taken?.attempts == 2)
            #expect(try await store.complete("orphan", worker: "vanished", result: nil) == false)
            #expect(try await store.complete("orphan", worker: "other", result: nil))
        }
    }

    @Test(
        "at shutdown a worker gives back the jobs that did not finish in the grace period",
        arguments: JobBackend.available)
    func shutdownGivesBack(_ backend: JobBackend) async throws {
        try await Self.withStore(backend) { store in
            // given a job that takes far longer than the grace period
            let runs = Runs()
            let handler = JobHandler(queue: "work", name: "slow") { _ in
                runs.started.add(1, ordering: .relaxed)
                try await Task.sleep(for: .seconds(60))
                return nil
            }
            var configuration = JobWorkerConfiguration()
            configuration.shutdownGrace = .milliseconds(200)
            configuration.idleWait = .milliseconds(20)
            let worker = JobWorker(store: store, handlers: [handler], configuration: configuration, logger: .test)
            try await store.enqueue([JobRequest(id: "long", queue: "work", name: "slow")])

            // when the worker is stopped while it runs
            try await Self.running([worker]) {
                try await Self.waitUntil { runs.started.load(ordering: .relaxed) == 1 }
            }

            // then the job waits for the next worker, its interrupted attempt not counted
            let job = try #require(try await store.job("long"))
            #expect(job.status == .waiting)
            #expect(job.attempts == 0)
        }
    }

    @Test(
        "a slot left free beside long-running jobs is filled without waiting for one to end",
        arguments: JobBackend.available)
    func freeSlotFilled(_ backend: JobBackend) async throws {
        try await Self.withStore(backend) { store in
            // given a worker of four slots, three of them taken by jobs that run until released
            let runs = Runs()
            let release = Atomic<Bool>(false)
            let handler = JobHandler(queue: "work", name: "long") { _ in
                runs.started.add(1, ordering: .relaxed)
                while !release.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(20)) }
                return nil
            }
            var configuration = JobWorkerConfiguration()
            configuration.defaultConcurrency = 4
            configuration.idleWait = .milliseconds(20)
            let worker = JobWorker(store: store, handlers: [handler], configuration: configuration, logger: .test)
            try await store.enqueue((1...3).map { JobRequest(id: "long-\($0)", queue: "work", name: "long") })

            try await Self.running([worker]) {
                try await Self.waitUntil { runs.started.load(ordering: .relaxed) == 3 }
                // when a fourth job arrives while one slot of four is free
                try await store.enqueue([JobRequest(id: "fourth", queue: "work", name: "long")])
                let deadline = ContinuousClock.now + .seconds(20)
                while runs.started.load(ordering: .relaxed) < 4 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                // then it starts while the other three still run
                #expect(runs.started.load(ordering: .relaxed) == 4)
                release.store(true, ordering: .relaxed)
                try await Self.waitUntil { try await store.job("fourth")?.status == .completed }
            }
        }
    }

    @Test("a job that runs longer than its lock keeps it: the worker renews it", arguments: JobBackend.available)
    func lockRenewed(_ backend: JobBackend) async throws {
        try await Self.withStore(backend) { store in
            // given a worker whose locks last 1.5 s, and a job that takes three times as long
            // (long enough that a loaded CI machine still renews in time)
            let runs = Runs()
            let handler = JobHandler(queue: "work", name: "slow") { _ in
                runs.started.add(1, ordering: .relaxed)
                try await Task.sleep(for: .milliseconds(4_500))
                return #"{"done":true}"#
            }
            var configuration = JobWorkerConfiguration()
            configuration.lock = .milliseconds(1_500)
            configuration.idleWait = .milliseconds(20)
            let worker = JobWorker(store: store, handlers: [handler], configuration: configuration, logger: .test)
            try await store.enqueue([JobRequest(id: "long", queue: "work", name: "slow")])

            // when another worker keeps looking for work while it runs
            var takenOver: [Job] = []
            try await Self.running([worker]) {
                try await Self.waitUntil { runs.started.load(ordering: .relaxed) == 1 }
                let deadline = ContinuousClock.now + .milliseconds(4_000)
                while ContinuousClock.now < deadline {
                    takenOver += try await store.claim(queue: "work", worker: "other", lock: .seconds(30), limit: 1)
                    try await Task.sleep(for: .milliseconds(100))
                }
                try await Self.waitUntil { try await store.job("long")?.status == .completed }
            }

            // then it never could, and the job completed in its first attempt
            #expect(takenOver.isEmpty)
            let job = try #require(try await store.job("long"))
            #expect(job.attempts == 1)
            #expect(job.result == #"{"done":true}"#)
        }
    }

    @Test(
        "on Redis the ready entries read by claims are trimmed, so the streams do not grow with the jobs run",
        .enabled(if: JobBackend.available.contains { if case .redis = $0 { true } else { false } }))
    func readyEntriesAreTrimmed() async throws {
        try await TestRedis.withClient { client in
            let prefix = TestRedis.jobsKeyPrefix()
            let store = RedisJobStore(redis: client, keyPrefix: prefix)
            let stream = "\(prefix)work:ready:normal"
            // given 1,000 jobs run to completion
            try await store.enqueue((1...1_000).map { JobRequest(id: "j\($0)", queue: "work", name: "noop") })
            var completed = 0
            while true {
                let claimed = try await store.claim(queue: "work", worker: "w", lock: .seconds(30), limit: 250)
                if claimed.isEmpty { break }
                for job in claimed {
                    if try await store.complete(job.id, worker: "w", result: nil) { completed += 1 }
                }
            }
            #expect(completed == 1_000)

            // when a claim runs after the once-a-second clean-up is due again
            try await Task.sleep(for: .milliseconds(1_100))
            #expect(try await store.claim(queue: "work", worker: "w", lock: .seconds(30), limit: 1).isEmpty)

            // then at most the stream's last node of entries is left (`XTRIM MINID ~` drops whole nodes)
            // and a job enqueued afterwards is still read
            #expect(try await client.xlen(stream) <= 100)
            try await store.enqueue([JobRequest(id: "later", queue: "work", name: "noop")])
            let later = try await store.claim(queue: "work", worker: "w", lock: .seconds(30), limit: 5)
            #expect(later.map(\.id) == ["later"])
        }
    }

    @Test("jobs are listed newest first, by queue and status, a page at a time", arguments: JobBackend.available)
    func listing(_ backend: JobBackend) async throws {
        try await Self.withStore(backend) { store in
            // given seven jobs requested together, in two queues, one of them running, three owned by u1
            try await store.enqueue(
                (1...5).map { JobRequest(id: "a\($0)", queue: "a", name: "x", owner: $0 % 2 == 1 ? "u1" : nil) }
                    + (1...2).map { JobRequest(id: "b\($0)", queue: "b", name: "x") })
            let running = try #require(
                try await store.claim(queue: "a", worker: "w", lock: .seconds(30), limit: 1).first)

            // when
            let first = try await store.jobs(queue: "a", status: nil, owner: nil, limit: 2, before: nil)
            let second = try await store.jobs(queue: "a", status: nil, owner: nil, limit: 2, before: first.last?.id)
            let third = try await store.jobs(queue: "a", status: nil, owner: nil, limit: 2, before: second.last?.id)
            let everything = try await store.jobs(queue: nil, status: nil, owner: nil, limit: 50, before: nil)
            let active = try await store.jobs(queue: nil, status: .active, owner: nil, limit: 50, before: nil)
            let waiting = try await store.jobs(queue: "a", status: .waiting, owner: nil, limit: 50, before: nil)
            let owned = try await store.jobs(queue: nil, status: nil, owner: "u1", limit: 50, before: nil)
            let ownedWaiting = try await store.jobs(queue: nil, status: .waiting, owner: "u1", limit: 50, before: nil)

            // then (requested in the same instant, they are ordered by id)
            #expect(first.map(\.id) == ["a5", "a4"])
            #expect(second.map(\.id) == ["a3", "a2"])
            #expect(third.map(\.id) == ["a1"])
            #expect(everything.map(\.id) == ["b2", "b1", "a5", "a4", "a3", "a2", "a1"])
            #expect(active.map(\.id) == [running.id])
            #expect(Set(waiting.map(\.id)) == Set(["a1", "a2", "a3", "a4", "a5"]).subtracting([running.id]))
            #expect(owned.map(\.id) == ["a5", "a3", "a1"])
            #expect(ownedWaiting.map(\.id) == ["a5", "a3", "a1"].filter { $0 != running.id })
            #expect(try await store.job("nope") == nil)
        }
    }

    @Test("a job is followed live from waiting through its progress to its end", arguments: JobBackend.available)
    func follow(_ backend: JobBackend) async throws {
        try await Self.withStore(backend) { store in
            // given a job, followed before any worker runs it
            try await store.enqueue([JobRequest(id: "watched", queue: "work", name: "steps")])
            let updates = store.follow("watched")
            let runs = Runs()
            let seen = Task {
                var jobs: [Job] = []
                for try await job in updates {
                    jobs.append(job)
                    runs.started.store(jobs.count, ordering: .relaxed)
                }
                return jobs
            }
            try await Self.waitUntil { runs.started.load(ordering: .relaxed) > 0 }
            let handler = JobHandler(queue: "work", name: "steps") { context in
                for percent in [25, 50, 75] {
                    try await context.progress(percent, "step \(percent / 25)")
                    try await Task.sleep(for: .milliseconds(100))
                }
                return #"{"ok":true}"#
            }
            var configuration = JobWorkerConfiguration()
            configuration.idleWait = .milliseconds(50)
            let worker = JobWorker(store: store, handlers: [handler], configuration: configuration, logger: .test)

            // when
            try await Self.running([worker]) {
                try await Self.waitUntil { try await store.job("watched")?.status == .completed }
            }
            let jobs = try await seen.value

            // then the stream began with the waiting job, saw it run, and ended with its result
            #expect(jobs.first?.status == .waiting)
            #expect(jobs.contains { $0.status == .active && $0.progress > 0 })
            #expect(jobs.map(\.progress) == jobs.map(\.progress).sorted())
            #expect(jobs.last?.status == .completed)
            #expect(jobs.last?.result == #"{"ok":true}"#)
            var missing: [Job] = []
            for try await job in store.follow("nope") { missing.append(job) }
            #expect(missing.isEmpty)
        }
    }

    @Test("a job's record shows a failure's stable code and message, never an internal error's text")
    func failureTextIsPublic() async throws {
        try await Self.withStore(.database(.sqlite)) { store in
            // given one handler failing on a database constraint, one on a service's refusal
            struct Constraint: Error, CustomStringConvertible {
                var description: String {
                    "SQLITE_CONSTRAINT: UNIQUE constraint failed: beneficiaries.phone_index (10.0.0.3)"
                }
            }
            let handlers = [
                JobHandler(queue: "work", name: "internal") { _ in throw UnrecoverableJobErrorWrapper(Constraint()) },
                JobHandler(queue: "work", name: "refused") { _ in
                    throw ServiceError(.failedPrecondition, reason: "project.closed", message: "The project is closed.")
                },
            ]
            var configuration = JobWorkerConfiguration()
            configuration.idleWait = .milliseconds(20)
            let worker = JobWorker(store: store, handlers: handlers, configuration: configuration, logger: .test)
            try await store.enqueue([
                JobRequest(id: "a", queue: "work", name: "internal", maxAttempts: 1),
                JobRequest(id: "b", queue: "work", name: "refused", maxAttempts: 1),
            ])

            // when
            try await Self.running([worker]) {
                try await Self.waitUntil {
                    let first = try await store.job("a")?.status
                    let second = try await store.job("b")?.status
                    return first == .failed && second == .failed
                }
            }

            // then
            let recorded = try #require(try await store.job("a")?.error)
            #expect(!recorded.contains("SQLITE") && !recorded.contains("10.0.0.3"), "\(recorded)")
            #expect(recorded.hasPrefix("job.internal_error"))
            #expect(try await store.job("b")?.error == "project.closed: The project is closed.")
        }
    }

    /// An internal error as a handler might let one through.
    struct UnrecoverableJobErrorWrapper: Error, CustomStringConvertible {
        var underlying: any Error
        init(_ underlying: any Error) { self.underlying = underlying }
        var description: String { "\(underlying)" }
    }

    @Test(
        "followers of many jobs share one Redis connection, released when the last one leaves",
        .enabled(if: SharedStateBackend.available.contains(.redis)))
    func followersShareOneSubscription() async throws {
        let name = "follow-test-\(UUID().uuidString.prefix(8).lowercased())"
        try await TestRedis.withClient(named: name) { client in
            // given twenty jobs, each followed by a client of its own
            let store = RedisJobStore(redis: client, keyPrefix: TestRedis.jobsKeyPrefix())
            let ids = (1...20).map { "job-\($0)" }
            try await store.enqueue(ids.map { JobRequest(id: $0, queue: "work", name: "x") })
            let runs = Runs()
            let followers = ids.map { id in
                Task {
                    var statuses: [JobStatus] = []
                    for try await job in store.follow(id) {
                        statuses.append(job.status)
                        if statuses.count == 1 { runs.started.add(1, ordering: .relaxed) }
                    }
                    return statuses
                }
            }
            let subscribers = { @Sendable () async throws -> Int in
                let list = try await client.send("CLIENT", "LIST", "TYPE", "pubsub").string ?? ""
                return list.split(separator: "\n").filter { $0.contains("name=\(name) ") }.count
            }
            try await Self.waitUntil { runs.started.load(ordering: .relaxed) == ids.count }

            // then one connection carries them all
            #expect(try await subscribers() == 1)

            // when every job runs to its end
            var completed = 0
            while completed < ids.count {
                let claimed = try await store.claim(queue: "work", worker: "w", lock: .seconds(30), limit: ids.count)
                for job in claimed where try await store.complete(job.id, worker: "w", result: nil) { completed += 1 }
            }

            // then each follower saw its job end, and the connection was let go
            for follower in followers {
                #expect(try await follower.value.last == .completed)
            }
            try await Self.waitUntil { try await subscribers() == 0 }
        }
    }

    @Test(
        "a job requested in a business transaction exists if and only if the transaction committed",
        arguments: JobBackend.available)
    func enqueuedThroughTheOutbox(_ backend: JobBackend) async throws {
        try await OutboxRelayTests.withOutbox(backend.engine) { _, database in
            try await Self.withStore(backend) { store in
                let relay = OutboxRelay(
                    service: "relay_test", database: database,
                    publisher: JobRoutingPublisher(jobs: store, events: NoEventsExpected()), logger: .test)
                let request = JobRequest(
                    id: "verify:b1", queue: "verification", name: "beneficiary.verify", payload: #"{"id":"b1"}"#,
                    priority: .high, maxAttempts: 5, backoff: .seconds(2), owner: "u1")

                // when one transaction commits a request, another asks for a job and then fails
                try await database.db.transaction { transaction in
                    try await Outbox.append(.jobRequested(request), on: transaction)
                }
                await #expect(throws: Broken.self) {
                    try await database.db.transaction { transaction in
                        try await Outbox.append(
                            .jobRequested(JobRequest(id: "rolled-back", queue: "verification", name: "x")),
                            on: transaction)
                        throw Broken(message: "the business rule refused")
                    }
                }
                // and the relay runs twice over the same rows (as after a crash before marking them sent)
                #expect(try await relay.relayOnce() == 1)
                try await database.sql.raw("UPDATE outbox SET sent_at = NULL").run()
                #expect(try await relay.relayOnce() == 1)

                // then exactly the committed job exists, as requested
                let jobs = try await store.jobs(queue: nil, status: nil, owner: nil, limit: 10, before: nil)
                #expect(jobs.map(\.id) == ["verify:b1"])
                let job = try #require(jobs.first)
                #expect(job.queue == "verification")
                #expect(job.name == "beneficiary.verify")
                #expect(job.payload == #"{"id":"b1"}"#)
                #expect(job.priority == .high)
                #expect(job.maxAttempts == 5)
                #expect(job.backoffMilliseconds == 2_000)
                #expect(job.owner == "u1")
                #expect(job.status == .waiting)
            }
        }
    }

    @Test(
        "a job request that does not decode is set aside with its reason, and the requests behind it still become jobs",
        arguments: JobBackend.available)
    func undecodableRequestSetAside(_ backend: JobBackend) async throws {
        try await OutboxRelayTests.withOutbox(backend.engine) { _, database in
            try await Self.withStore(backend) { store in
                // A label of its own: the counters are the process's, shared by every test.
                _ = RahatMetrics.bootstrap()
                let service = "aside_\(UUID().uuidString.prefix(8).lowercased())"
                let relay = OutboxRelay(
                    service: service, database: database,
                    publisher: JobRoutingPublisher(jobs: store, events: NoEventsExpected()), logger: .test)
                func counted(_ name: String) -> Double? {
                    MetricsPage.value(of: "\(name){service=\"\(service)\"}", in: RahatMetrics.exposition())
                }
                // given: a request written by a release whose shape this one cannot read, then a good one
                try await database.db.transaction { transaction in
                    try await Outbox.append(
                        OutboxEvent(
                            type: OutboxEvent.jobRequestedType, aggregateType: "job", aggregateID: "future:1",
                            payload: ["id": .string("future:1"), "shape": .string("from a later release")],
                            occurredAt: Date()),
                        on: transaction)
                    try await Outbox.append(
                        .jobRequested(JobRequest(id: "verify:b2", queue: "verification", name: "beneficiary.verify")),
                        on: transaction)
                }
                // when the relay runs until nothing is left
                var rounds = 0
                while try await relay.relayOnce() > 0 { rounds += 1 }
                // then the good request became a job, the bad one waits aside with why, and neither is unsent
                let jobs = try await store.jobs(queue: nil, status: nil, owner: nil, limit: 10, before: nil)
                #expect(jobs.map(\.id) == ["verify:b2"])
                let failed = try await Outbox.failed(limit: 10, on: database)
                #expect(failed.map(\.event.aggregateID) == ["future:1"])
                #expect(failed.first?.reason.contains("does not decode") == true)
                #expect(try await Outbox.backlog(on: database).count == 0)
                #expect(rounds == 2)
                // and put back in line, it is set aside again rather than blocking anything
                #expect(try await Outbox.retry(failed.map(\.event.id), on: database) == 1)
                #expect(try await relay.relayOnce() == 1)
                #expect(try await Outbox.failed(limit: 10, on: database).count == 1)
                // and only what was published counts as relayed
                #expect(counted("rahat_outbox_relayed_total") == 1)
                #expect(counted("rahat_outbox_events_failed_total") == 2)
            }
        }
    }

    /// The relay's publisher for events other than job requests, of which these tests write none.
    struct NoEventsExpected: EventPublisher {
        func publish(_ events: [StoredOutboxEvent]) async throws {
            if !events.isEmpty { Issue.record("unexpected events: \(events.map(\.type))") }
        }
    }

    /// A failure described for the job's readers, as handlers describe theirs.
    struct Broken: JobFailureDescribing {
        var message: String
        var description: String { message }
    }

    /// Runs the workers in a service group while `body` runs, then shuts them down gracefully.
    static func running(_ workers: [JobWorker], _ body: () async throws -> Void) async throws {
        let group = ServiceGroup(
            configuration: .init(services: workers.map { .init(service: $0) }, logger: .test))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await body()
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    static func waitUntil(_ condition: () async throws -> Bool) async throws {
        // Generous: the whole suite shares two cores, and SQLite commits wait for the disk.
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the condition did not hold within 120 s")
    }
}
