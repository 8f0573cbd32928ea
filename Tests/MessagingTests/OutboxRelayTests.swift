import FluentKit
import Foundation
import Logging
import Messaging
import Persistence
import RedisClient
import SQLKit
import ServerKit
import Synchronization
import TestInfrastructure
import Testing

@Suite("Outbox relay")
struct OutboxRelayTests {
    /// A service database of its own (schema `relay_test`) with only an outbox in it.
    static func withOutbox<T: Sendable>(
        _ engine: DatabaseEngine, _ body: (TestDatabase, ServiceDatabase) async throws -> T
    ) async throws -> T {
        try await TestDatabase.with(engine, migrating: []) { testDatabase in
            let database = try ServiceDatabase(
                configuration: testDatabase.configuration(for: "relay_test"), schema: "relay_test", logger: .test)
            do {
                try await database.migrate(Self.migrations)
                let result = try await body(testDatabase, database)
                await database.shutdown()
                return result
            } catch {
                await database.shutdown()
                throw error
            }
        }
    }

    static let migrations: [any Migration] = [
        CreateOutbox(name: "relay_test.0001_CreateOutbox"), OutboxSequence(name: "relay_test.0002_OutboxSequence"),
        CreateProcessedEvents(name: "relay_test.0003_CreateProcessedEvents"),
        OutboxFailures(name: "relay_test.0004_OutboxFailures"),
    ]

    /// Writes `count` events for `aggregate` numbered from `first`, one transaction per event so
    /// that many share a millisecond.
    static func write(
        _ count: Int, for aggregate: String, from first: Int = 0, on database: ServiceDatabase
    )
        async throws
    {
        for number in first..<(first + count) {
            try await database.db.transaction { transaction in
                try await Outbox.append(
                    OutboxEvent(
                        type: "rahat.test.thing.changed", aggregateType: "thing", aggregateID: aggregate,
                        payload: ["n": .int(Int64(number))], occurredAt: Date()),
                    on: transaction)
            }
        }
    }

    /// The stream's entries as (aggregate, n), in stream order.
    static func streamed(
        _ client: RedisClient, topic: String = "rahat.test.thing.changed"
    ) async throws
        -> [(aggregate: String, number: Int, id: String)]
    {
        let reply = try await client.send("XRANGE", RedisEventPublisher.streamKey(topic: topic), "-", "+")
        guard case .array(let entries) = reply else { return [] }
        return try entries.map { entry in
            guard case .array(let parts) = entry, parts.count == 2, case .array(let fields) = parts[1] else {
                throw Unexpected(reply: "\(entry)")
            }
            var values: [String: String] = [:]
            for index in stride(from: 0, to: fields.count - 1, by: 2) {
                if let key = fields[index].string, let value = fields[index + 1].string { values[key] = value }
            }
            let envelope = try JSONSerialization.jsonObject(with: Data((values["event"] ?? "").utf8))
            guard let object = envelope as? [String: Any], let data = object["data"] as? [String: Any],
                let number = data["n"] as? Int, let aggregate = values["aggregate"], let id = values["id"],
                object["id"] as? String == id, object["aggregateId"] as? String == aggregate
            else { throw Unexpected(reply: "\(values)") }
            return (aggregate, number, id)
        }
    }

    struct Unexpected: Error {
        var reply: String
    }

    @Test(
        "relays every event once, in write order per aggregate, and marks it sent", arguments: DatabaseEngine.available)
    func relaysInOrder(_ engine: DatabaseEngine) async throws {
        try await TestRedis.withClient { client in
            try await Self.withOutbox(engine) { _, database in
                // given events of three aggregates, interleaved, and a stream of our own
                let topic = "rahat.test.\(UUID().uuidString.lowercased()).changed"
                for round in 0..<4 {
                    for aggregate in ["a", "b", "c"] {
                        try await database.db.transaction { transaction in
                            try await Outbox.append(
                                (0..<50).map { offset in
                                    OutboxEvent(
                                        type: topic, aggregateType: "thing", aggregateID: aggregate,
                                        payload: ["n": .int(Int64(round * 50 + offset))], occurredAt: Date())
                                },
                                on: transaction)
                        }
                    }
                }
                var configuration = OutboxRelayConfiguration()
                configuration.batchSize = 100
                let relay = OutboxRelay(
                    service: "relay_test", database: database, publisher: RedisEventPublisher(client: client),
                    configuration: configuration, logger: .test)

                // when
                var batches: [Int] = []
                while true {
                    let count = try await relay.relayOnce()
                    if count == 0 { break }
                    batches.append(count)
                }

                // then
                #expect(batches == [100, 100, 100, 100, 100, 100])
                let entries = try await Self.streamed(client, topic: topic)
                #expect(entries.count == 600)
                #expect(Set(entries.map(\.id)).count == 600)
                for aggregate in ["a", "b", "c"] {
                    #expect(entries.filter { $0.aggregate == aggregate }.map(\.number) == Array(0..<200))
                }
                #expect(try await Outbox.backlog(on: database).count == 0)
                #expect(try await relay.relayOnce() == 0)
            }
        }
    }

    @Test(
        "while Redis is down events wait in the outbox; the relay catches up after", arguments: DatabaseEngine.available
    )
    func redisDown(_ engine: DatabaseEngine) async throws {
        try await Self.withOutbox(engine) { _, database in
            // given
            let aggregate = UUID().uuidString.lowercased()
            try await Self.write(30, for: aggregate, on: database)

            // when Redis cannot be reached
            try await TestRedis.withUnreachableClient { down in
                let relay = OutboxRelay(
                    service: "relay_test", database: database, publisher: RedisEventPublisher(client: down),
                    logger: .test)
                await #expect(throws: RedisError.self) { try await relay.relayOnce() }
            }

            // then nothing was marked sent
            #expect(try await Outbox.backlog(on: database).count == 30)

            // when it is back
            try await TestRedis.withClient { client in
                let relay = OutboxRelay(
                    service: "relay_test", database: database, publisher: RedisEventPublisher(client: client),
                    logger: .test)
                #expect(try await relay.relayOnce() == 30)
                let mine = try await Self.streamed(client).filter { $0.aggregate == aggregate }
                #expect(mine.map(\.number) == Array(0..<30))
            }
            #expect(try await Outbox.backlog(on: database).count == 0)
        }
    }

    @Test(
        "relays in several replicas never publish an event twice",
        .enabled(if: DatabaseEngine.available.contains(.postgres))
    )
    func replicas() async throws {
        try await TestRedis.withClient { client in
            try await Self.withOutbox(.postgres) { testDatabase, database in
                // given four replicas' relays, each with its own connection pool, and a writer
                let topic = "rahat.test.\(UUID().uuidString.lowercased()).changed"
                let replicas = try (0..<4).map { _ in
                    try ServiceDatabase(
                        configuration: testDatabase.configuration(for: "relay_test"), schema: "relay_test",
                        logger: .test)
                }
                var configuration = OutboxRelayConfiguration()
                configuration.batchSize = 25
                let relays = replicas.map {
                    OutboxRelay(
                        service: "relay_test", database: $0, publisher: RedisEventPublisher(client: client),
                        configuration: configuration, logger: .test)
                }

                // when they all relay while 200 events are written
                let written = Finished()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        defer { written.count.add(1, ordering: .relaxed) }
                        for number in 0..<200 {
                            try await database.db.transaction { transaction in
                                try await Outbox.append(
                                    OutboxEvent(
                                        type: topic, aggregateType: "thing", aggregateID: "only",
                                        payload: ["n": .int(Int64(number))], occurredAt: Date()),
                                    on: transaction)
                            }
                        }
                    }
                    for relay in relays {
                        group.addTask {
                            // Generous: the whole suite shares two cores.
                            let deadline = ContinuousClock.now + .seconds(180)
                            while ContinuousClock.now < deadline {
                                _ = try await relay.relayOnce()
                                if written.count.load(ordering: .relaxed) == 1,
                                    try await Outbox.backlog(on: database).count == 0
                                {
                                    return
                                }
                                try await Task.sleep(for: .milliseconds(5))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                for replica in replicas { await replica.shutdown() }

                // then
                let entries = try await Self.streamed(client, topic: topic)
                #expect(entries.map(\.number) == Array(0..<200))
            }
        }
    }

    @Test("pruning removes sent events past retention, never unsent ones", arguments: DatabaseEngine.available)
    func pruning(_ engine: DatabaseEngine) async throws {
        try await TestRedis.withClient { client in
            try await Self.withOutbox(engine) { _, database in
                // given 10 sent events and 5 unsent ones
                let aggregate = UUID().uuidString.lowercased()
                try await Self.write(10, for: aggregate, on: database)
                var configuration = OutboxRelayConfiguration()
                configuration.retention = .seconds(3_600)
                let relay = OutboxRelay(
                    service: "relay_test", database: database, publisher: RedisEventPublisher(client: client),
                    configuration: configuration, logger: .test)
                #expect(try await relay.relayOnce() == 10)
                try await Self.write(5, for: aggregate, from: 10, on: database)

                // when
                let early = try await relay.prune(now: Date())
                let late = try await relay.prune(now: Date().addingTimeInterval(3_601))

                // then
                #expect(early == 0)
                #expect(late == 10)
                let left = try await database.sql.raw("SELECT COUNT(*) AS n FROM outbox").first()
                #expect(try left?.decode(column: "n", as: Int.self) == 5)
                #expect(try await Outbox.backlog(on: database).count == 5)
            }
        }
    }

    @Test("a running relay publishes a commit it is woken for without waiting for its next look")
    func wake() async throws {
        try await TestRedis.withClient { client in
            try await Self.withOutbox(.sqlite) { _, database in
                // given a running relay that would otherwise look only every 30 s
                var configuration = OutboxRelayConfiguration()
                configuration.idlePoll = .seconds(30)
                let relay = OutboxRelay(
                    service: "relay_test", database: database, publisher: RedisEventPublisher(client: client),
                    configuration: configuration, logger: .test)
                let aggregate = UUID().uuidString.lowercased()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await relay.run() }
                    try await Task.sleep(for: .milliseconds(200))

                    // when
                    try await Self.write(1, for: aggregate, on: database)
                    relay.wake()

                    // then
                    let deadline = ContinuousClock.now + .seconds(5)
                    var delivered = false
                    while !delivered, ContinuousClock.now < deadline {
                        delivered = try await Self.streamed(client).contains { $0.aggregate == aggregate }
                        if !delivered { try await Task.sleep(for: .milliseconds(20)) }
                    }
                    #expect(delivered)
                    group.cancelAll()
                }
            }
        }
    }
}

/// How many of a test's tasks have finished, shared with the tasks still running.
final class Finished: Sendable {
    let count = Atomic<Int>(0)
}
