import CoreService
import FluentKit
import Foundation
import HTTPTypes
import HummingbirdTesting
import JobQueue
import Messaging
import Persistence
import RahatApp
import RedisClient
import SQLKit
import ServerKit
import ServiceLifecycle
import Synchronization
import TestInfrastructure
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Faults the platform must survive, on real PostgreSQL and Redis with real processes.
@Suite(
    "Reliability",
    .enabled(
        if: DatabaseEngine.available.contains(.postgres) && SharedStateBackend.available.contains(.redis)))
struct ReliabilityTests {
    /// The `rahat` executable SwiftPM built beside the test bundle.
    static var rahatExecutable: URL {
        if let configured = ProcessInfo.processInfo.environment["RAHAT_TEST_EXECUTABLE"] {
            return URL(fileURLWithPath: configured)
        }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if directory.lastPathComponent.hasSuffix(".xctest") { directory = directory.deletingLastPathComponent() }
        return directory.appendingPathComponent("rahat")
    }

    /// Every entry of a stream, as its fields.
    static func streamEntries(_ key: String, on client: RedisClient) async throws -> [[String: String]] {
        guard case .array(let entries) = try await client.send("XRANGE", key, "-", "+") else { return [] }
        return entries.compactMap { entry in
            guard case .array(let parts) = entry, parts.count == 2, case .array(let fields) = parts[1] else {
                return nil
            }
            var values: [String: String] = [:]
            for index in stride(from: 0, to: fields.count - 1, by: 2) {
                if let key = fields[index].string { values[key] = fields[index + 1].string }
            }
            return values
        }
    }

    @Test("a worker process killed with SIGKILL in the middle of 1,000 jobs loses none and records each once")
    func killedWorker() async throws {
        let executable = Self.rahatExecutable
        #expect(
            FileManager.default.isExecutableFile(atPath: executable.path), "no \(executable.path): swift build first")
        let redisURL = try #require(TestRedis.url)
        let prefix = TestRedis.jobsKeyPrefix()
        let redis = ["REDIS_URL": redisURL, "RAHAT_REDIS_TIMEOUT_MS": "10000", "RAHAT_JOBS_KEY_PREFIX": prefix]
        try await TestDatabase.with(.postgres) { database in
            guard case .postgres(url: let url) = database.configuration.location else { return }
            let auth = try await DistributedTests.startAuth(databaseURL: url)
            let core = try await DistributedTests.startCore(databaseURL: url, authPort: auth.port, extra: redis)
            defer {
                auth.task.cancel()
                core.task.cancel()
            }
            let coreDatabase = try ServiceDatabase(
                configuration: database.configuration(for: "core"), schema: CoreService.schema, logger: .test)
            defer { Task { await coreDatabase.shutdown() } }
            let sql = try #require(coreDatabase.db as? any SQLDatabase)
            @Sendable func checked() async throws -> Int {
                let row = try await sql.raw("SELECT count(*) AS n FROM verifications WHERE status <> 'pending'")
                    .first()
                return try row?.decode(column: "n", as: Int.self) ?? 0
            }
            let gateway = try Platform.gatewayProcess(
                configuration: DistributedTests.gatewayConfiguration(
                    authPort: auth.port, corePort: core.port,
                    extra: redis.merging(["RAHAT_RATE_LIMIT_WRITE": "off"]) { $1 }),
                logger: .test)
            try await GatewayHarness.run(gateway, testing: .live) { client in
                // given: 1,000 people registered one by one, so 1,000 check jobs wait in the queue
                let tokens = try await client.login()
                // One at a time: the live test client has one connection, and the rest of the suite
                // shares the machine.
                for index in 0..<1000 {
                    // A request the loaded machine times out is sent again: a second person more is
                    // harmless, the counts below come from the database.
                    for attempt in 1...3 {
                        do {
                            let created = try await client.send(
                                .post, "/v1/beneficiaries",
                                json: ["name": "Person \(index)", "birthDate": "1980-01-01"],
                                bearer: tokens.access)
                            #expect(created.status == .created, "\(created)")
                            break
                        } catch  where attempt < 3 {
                            continue
                        }
                    }
                }
                // when: a worker process runs them and is killed part-way
                let process = Process()
                process.executableURL = executable
                process.arguments = ["serve", "worker"]
                process.environment = redis.merging([
                    "DATABASE_URL": url.absoluteString, "RAHAT_AUTH_ADDRESS": "127.0.0.1:\(auth.port)",
                    "RAHAT_WORKER_HTTP_PORT": "0", "RAHAT_WORKER_CONCURRENCY": "4", "RAHAT_LOG_LEVEL": "error",
                    "RAHAT_PII_KEYS": "k1:\(Data(repeating: 7, count: 32).base64EncodedString())",
                    "RAHAT_PII_INDEX_KEY": Data(repeating: 9, count: 32).base64EncodedString(),
                    "RAHAT_SERVICE_SECRET": ServiceHarness.serviceSecret, "RAHAT_SMS_FILE": DistributedTests.smsFile,
                ]) { $1 }
                try process.run()
                let deadline = ContinuousClock.now + .seconds(120)
                while try await checked() < 100, ContinuousClock.now < deadline, process.isRunning {
                    try await Task.sleep(for: .milliseconds(20))
                }
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                let beforeKill = try await checked()
                // Another worker takes over; the dead one's jobs come back when their locks expire.
                let worker = try await DistributedTests.startWorker(
                    databaseURL: url, authPort: auth.port, redis: redis)
                defer { worker.task.cancel() }
                let total = try #require(
                    try await sql.raw("SELECT count(*) AS n FROM verifications").first()?.decode(
                        column: "n", as: Int.self))
                let end = ContinuousClock.now + .seconds(180)
                while try await checked() < total, ContinuousClock.now < end {
                    try await Task.sleep(for: .milliseconds(200))
                }
                // then: every check recorded once, with one outcome event each, and no job lost
                #expect(process.terminationReason == .uncaughtSignal)
                #expect(total >= 1000)
                #expect(beforeKill >= 100 && beforeKill < total)
                #expect(try await checked() == total)
                let outcomes = try await sql.raw(
                    """
                    SELECT aggregate_id, count(*) AS n FROM outbox
                    WHERE type IN ('rahat.core.beneficiary.verified', 'rahat.core.beneficiary.rejected',
                        'rahat.core.beneficiary.needs_review')
                    GROUP BY aggregate_id
                    """
                ).all()
                #expect(outcomes.count == total)
                #expect(try outcomes.allSatisfy { try $0.decode(column: "n", as: Int.self) == 1 })
                try await TestRedis.withClient { client in
                    let store = RedisJobStore(redis: client, keyPrefix: prefix)
                    for status in [JobStatus.waiting, .delayed, .active, .failed] {
                        let left = try await store.jobs(
                            queue: "verification", status: status, owner: nil, limit: 10, before: nil)
                        #expect(left.isEmpty, "\(status) jobs remain")
                    }
                }
            }
        }
    }

    @Test(
        "two workers pay a 20,000-line disbursement while one of them is killed with SIGKILL three times: every line paid exactly once"
    )
    func killedDisbursement() async throws {
        let executable = Self.rahatExecutable
        #expect(
            FileManager.default.isExecutableFile(atPath: executable.path), "no \(executable.path): swift build first")
        let redisURL = try #require(TestRedis.url)
        let prefix = TestRedis.jobsKeyPrefix()
        let redis = ["REDIS_URL": redisURL, "RAHAT_REDIS_TIMEOUT_MS": "10000", "RAHAT_JOBS_KEY_PREFIX": prefix]
        let people = 20_000
        let amount = 100
        try await TestDatabase.with(.postgres) { database in
            guard case .postgres(url: let url) = database.configuration.location else { return }
            let auth = try await DistributedTests.startAuth(databaseURL: url)
            let core = try await DistributedTests.startCore(databaseURL: url, authPort: auth.port, extra: redis)
            let ledger = try await DistributedTests.startLedger(databaseURL: url, authPort: auth.port)
            let c2c = try await DistributedTests.startC2C(
                databaseURL: url, authPort: auth.port, corePort: core.port, ledgerPort: ledger.port, extra: redis)
            defer {
                for task in [auth.task, core.task, ledger.task, c2c.task] { task.cancel() }
            }
            try await DisbursementScenario.withBooks(database) { c2cDatabase, ledgerDatabase in
                @Sendable func completedLines() async throws -> Int {
                    try await DisbursementScenario.completedLines(c2cDatabase)
                }
                let environment = redis.merging([
                    "DATABASE_URL": url.absoluteString, "RAHAT_AUTH_ADDRESS": "127.0.0.1:\(auth.port)",
                    "RAHAT_CORE_ADDRESS": "127.0.0.1:\(core.port)", "RAHAT_LEDGER_ADDRESS": "127.0.0.1:\(ledger.port)",
                    "RAHAT_WORKER_HTTP_PORT": "0", "RAHAT_LOG_LEVEL": "error",
                    "RAHAT_PII_KEYS": "k1:\(Data(repeating: 7, count: 32).base64EncodedString())",
                    "RAHAT_PII_INDEX_KEY": Data(repeating: 9, count: 32).base64EncodedString(),
                    "RAHAT_SERVICE_SECRET": ServiceHarness.serviceSecret, "RAHAT_SMS_FILE": DistributedTests.smsFile,
                ]) { $1 }
                /// A worker process, killed once `completedLines()` passes `killAt` (or it stops).
                @Sendable func workerKilled(at killAt: Int) async throws -> (Int, Process.TerminationReason) {
                    let process = Process()
                    process.executableURL = executable
                    process.arguments = ["serve", "worker"]
                    process.environment = environment
                    try process.run()
                    let deadline = ContinuousClock.now + .seconds(240)
                    while try await completedLines() < killAt, ContinuousClock.now < deadline, process.isRunning {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                    return (try await completedLines(), process.terminationReason)
                }
                let gateway = try Platform.gatewayProcess(
                    configuration: DistributedTests.gatewayConfiguration(
                        authPort: auth.port, corePort: core.port, ledgerPort: ledger.port, c2cPort: c2c.port,
                        extra: redis.merging(DisbursementScenario.gatewaySettings) { $1 }),
                    logger: .test)
                try await GatewayHarness.run(gateway, testing: .live) { client in
                    // given 20,000 registered people (checked by a worker of this test's queue),
                    // enrolled in a funded project, and a disbursement to them approved 2 of 3
                    let (admin, projectID, id) = try await DisbursementScenario.approved(
                        client: client, people: people, amount: amount,
                        checkedBy: {
                            try await DistributedTests.startWorker(databaseURL: url, authPort: auth.port, redis: redis)
                        })

                    // when two workers pay it at once: one that runs throughout, and a worker
                    // process beside it that is killed three times at random points, a new one
                    // started each time; the one left finishes, once the dead ones' locks run out
                    let steady = try await DistributedTests.startWorker(
                        databaseURL: url, authPort: auth.port, redis: redis,
                        extra: [
                            "RAHAT_CORE_ADDRESS": "127.0.0.1:\(core.port)",
                            "RAHAT_LEDGER_ADDRESS": "127.0.0.1:\(ledger.port)",
                        ])
                    defer { steady.task.cancel() }
                    var kills: [(Int, Process.TerminationReason)] = []
                    for round in 0..<3 {
                        let target = (round * people / 3) + Int.random(in: 500..<(people / 3 - 500))
                        kills.append(try await workerKilled(at: target))
                    }
                    let done = try await DisbursementScenario.ended(id, client: client, admin: admin)

                    // then every line is paid exactly once, the books balance, and the chain verifies
                    #expect(kills.allSatisfy { $0.1 == .uncaughtSignal }, "\(kills)")
                    #expect(kills.map(\.0) == kills.map(\.0).sorted(), "\(kills)")
                    try await DisbursementScenario.expectPaidOnce(
                        done, id: id, projectID: projectID, people: people, amount: amount, client: client,
                        admin: admin,
                        ledger: ledgerDatabase)
                }
            }
        }
    }

    @Test("Redis stopped for 10 seconds while people register: every committed event and job arrives after")
    func redisStopped() async throws {
        // A server of its own, persisting every write, so stopping it disturbs no other test.
        let server = try await TestRedisServer.start(
            .init(extraArguments: ["--appendonly", "yes", "--appendfsync", "always"]))
        defer {
            Task {
                await server.stop()
                server.cleanUp()
            }
        }
        let redis = ["REDIS_URL": server.url, "RAHAT_REDIS_TIMEOUT_MS": "1000"]
        try await TestDatabase.with(.postgres) { database in
            guard case .postgres(url: let url) = database.configuration.location else { return }
            let auth = try await DistributedTests.startAuth(databaseURL: url)
            let core = try await DistributedTests.startCore(databaseURL: url, authPort: auth.port, extra: redis)
            defer {
                auth.task.cancel()
                core.task.cancel()
            }
            let coreDatabase = try ServiceDatabase(
                configuration: database.configuration(for: "core"), schema: CoreService.schema, logger: .test)
            defer { Task { await coreDatabase.shutdown() } }
            let sql = try #require(coreDatabase.db as? any SQLDatabase)
            let gateway = try Platform.gatewayProcess(
                configuration: DistributedTests.gatewayConfiguration(
                    authPort: auth.port, corePort: core.port,
                    extra: redis.merging(["RAHAT_RATE_LIMIT_WRITE": "off"]) { $1 }),
                logger: .test)
            try await GatewayHarness.run(gateway, testing: .live) { client in
                // given people registering all along
                let tokens = try await client.login()
                let registered = Shared<[String]>([])
                let refused = Shared<[String]>([])
                let writing = Atomic<Bool>(true)
                let writer = Task {
                    var index = 0
                    while writing.load(ordering: .relaxed) {
                        index += 1
                        let created = try await client.send(
                            .post, "/v1/beneficiaries", json: ["name": "Person \(index)", "birthDate": "1980-01-01"],
                            bearer: tokens.access)
                        if let id = try? created.json["id"] as? String {
                            registered.value.withLock { $0.append(id) }
                        } else {
                            refused.value.withLock { $0.append("\(created)") }
                        }
                    }
                }
                @Sendable func registrations(atLeast count: Int) async throws {
                    let deadline = ContinuousClock.now + .seconds(90)
                    while registered.value.withLock(\.count) < count, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(100))
                    }
                }
                // when Redis stops for at least ten seconds in the middle
                try await registrations(atLeast: 3)
                await server.stop()
                let duringOutage = registered.value.withLock(\.count)
                try await Task.sleep(for: .seconds(10))
                try await registrations(atLeast: duringOutage + 3)
                let afterOutage = registered.value.withLock(\.count)
                try await server.restart()
                try await registrations(atLeast: afterOutage + 3)
                writing.store(false, ordering: .relaxed)
                try await writer.value
                // then the relay catches up: nothing left in the outbox
                let deadline = ContinuousClock.now + .seconds(120)
                while try await Outbox.backlog(on: coreDatabase).count > 0, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(200))
                }
                let ids = registered.value.withLock { $0 }
                #expect(refused.value.withLock { $0 }.isEmpty)
                #expect(afterOutage > duringOutage, "registration went on while Redis was down")
                #expect(try await Outbox.backlog(on: coreDatabase).count == 0)
                var configuration = try RedisConfiguration(url: server.url)
                configuration.commandTimeout = .seconds(10)
                try await RedisClient.withClient(configuration: configuration, logger: .test) { client in
                    // every registration's event is on its stream, once
                    let streamed = try await Self.streamEntries(
                        RedisEventPublisher.streamKey(topic: "rahat.core.beneficiary.created"), on: client
                    ).compactMap { $0["aggregate"] }
                    #expect(streamed.sorted() == ids.sorted())
                    // and every registration's check job is queued
                    let store = RedisJobStore(redis: client, keyPrefix: "rahat:jobs:")
                    let runs = try await sql.raw("SELECT id FROM verifications").all()
                        .map { try $0.decode(column: "id", as: UUID.self) }
                    #expect(runs.count == ids.count)
                    var missing = 0
                    for run in runs where try await store.job("verify-\(run.uuidString.lowercased())") == nil {
                        missing += 1
                    }
                    #expect(missing == 0)
                }
            }
        }
    }

    @Test("a job whose handler always fails is dead-lettered with its error and runs again when retried over the API")
    func deadLetter() async throws {
        let redisURL = try #require(TestRedis.url)
        let prefix = TestRedis.jobsKeyPrefix()
        let redis = ["REDIS_URL": redisURL, "RAHAT_REDIS_TIMEOUT_MS": "10000", "RAHAT_JOBS_KEY_PREFIX": prefix]
        try await TestDatabase.with(.postgres) { database in
            guard case .postgres(url: let url) = database.configuration.location else { return }
            let auth = try await DistributedTests.startAuth(databaseURL: url)
            let core = try await DistributedTests.startCore(databaseURL: url, authPort: auth.port, extra: redis)
            defer {
                auth.task.cancel()
                core.task.cancel()
            }
            let gateway = try Platform.gatewayProcess(
                configuration: DistributedTests.gatewayConfiguration(
                    authPort: auth.port, corePort: core.port, extra: redis),
                logger: .test)
            try await GatewayHarness.run(gateway, testing: .live) { client in
                try await TestRedis.withClient { redisClient in
                    // given a worker whose handler always fails, and a job with three attempts
                    let tokens = try await client.login()
                    let me = try await client.send(.get, "/v1/auth/me", bearer: tokens.access)
                    let owner = try #require((try me.json["user"] as? [String: Any])?["id"] as? String)
                    let store = RedisJobStore(redis: redisClient, keyPrefix: prefix)
                    let runs = Atomic<Int>(0)
                    let handler = JobHandler(queue: "payouts", name: "payout.send") { _ in
                        runs.add(1, ordering: .relaxed)
                        throw PayeeUnreachable()
                    }
                    var configuration = JobWorkerConfiguration()
                    configuration.idleWait = .milliseconds(100)
                    let worker = JobWorker(
                        store: store, handlers: [handler], configuration: configuration, logger: .test)
                    let running = Task { try await worker.run() }
                    defer { running.cancel() }
                    try await store.enqueue([
                        JobRequest(
                            id: "payout-1", queue: "payouts", name: "payout.send", maxAttempts: 3,
                            backoff: .milliseconds(100), owner: owner)
                    ])
                    @Sendable func failed() async throws -> HTTPAnswer {
                        var job = try await client.send(.get, "/v1/jobs/payout-1", bearer: tokens.access)
                        let deadline = ContinuousClock.now + .seconds(60)
                        while try job.json["status"] as? String != "failed", ContinuousClock.now < deadline {
                            try await Task.sleep(for: .milliseconds(100))
                            job = try await client.send(.get, "/v1/jobs/payout-1", bearer: tokens.access)
                        }
                        return job
                    }
                    @Sendable func deadLetters() async throws -> [[String: String]] {
                        try await Self.streamEntries("\(prefix)payouts:dead", on: redisClient)
                    }
                    // when it fails for good, is retried over the API, and fails for good again
                    let first = try await failed()
                    let parked = try await deadLetters()
                    let retried = try await client.send(.post, "/v1/jobs/payout-1/retry", bearer: tokens.access)
                    let afterRetry = try await deadLetters()
                    let second = try await failed()
                    // then
                    #expect(try first.json["attempts"] as? Int == 3)
                    #expect(try first.json["error"] as? String == "payee bank unreachable")
                    #expect(parked.map { $0["job"] } == ["payout-1"])
                    #expect(parked.first?["error"] == "payee bank unreachable" && parked.first?["attempts"] == "3")
                    #expect(retried.status == .ok)
                    #expect(afterRetry.isEmpty)
                    #expect(try second.json["attempts"] as? Int == 3)
                    #expect(runs.load(ordering: .relaxed) == 6)
                    #expect(try await deadLetters().map { $0["job"] } == ["payout-1"])
                }
            }
        }
    }
}

/// State a test's tasks share.
private final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
}

/// What the always-failing handler throws.
private struct PayeeUnreachable: JobFailureDescribing {
    var description: String { "payee bank unreachable" }
}
