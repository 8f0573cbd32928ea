import FluentKit
import Foundation
import Messaging
import Persistence
import RedisClient
import SQLKit
import Synchronization
import TestInfrastructure
import Testing

@Suite("Event consumers")
struct EventConsumerTests {
    /// What handlers did, shared with the handlers.
    final class Effects: Sendable {
        let applied = Mutex<[String: [Int]]>([:])
        let calls = Atomic<Int>(0)
        let callsByGroup = Mutex<[String: Int]>([:])
        let failing = Atomic<Bool>(false)
    }

    static func unique(_ name: String) -> String { "\(name)-\(UUID().uuidString.prefix(8).lowercased())" }

    /// Writes `count` events of `topic` to the outbox and relays them.
    static func publish(
        _ count: Int, of topic: String, from first: Int = 0, database: ServiceDatabase, client: RedisClient
    ) async throws {
        try await database.db.transaction { transaction in
            try await Outbox.append(
                (first..<(first + count)).map { number in
                    OutboxEvent(
                        type: topic, aggregateType: "thing", aggregateID: "a", payload: ["n": .int(Int64(number))],
                        occurredAt: Date())
                },
                on: transaction)
        }
        try await relayAll(database: database, client: client)
    }

    static func relayAll(database: ServiceDatabase, client: RedisClient) async throws {
        let relay = OutboxRelay(
            service: "relay_test", database: database, publisher: RedisEventPublisher(client: client), logger: .test)
        while try await relay.relayOnce() > 0 {}
    }

    struct Numbered: Decodable {
        var n: Int
    }

    /// A handler applying each event once per group through the processed-events table.
    static func handler(
        _ topic: String, group: String, database: ServiceDatabase, effects: Effects
    ) -> EventHandler {
        EventHandler(topics: [topic]) { event in
            effects.calls.add(1, ordering: .relaxed)
            effects.callsByGroup.withLock { $0[group, default: 0] += 1 }
            if effects.failing.load(ordering: .relaxed) { throw HandlerFailure(message: "boom: payee unknown") }
            let number = try event.data(as: Numbered.self).n
            try await ProcessedEvents.once(event.id, consumer: group, on: database) { _ in
                effects.applied.withLock { $0[group, default: []].append(number) }
            }
        }
    }

    struct HandlerFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    static func drain(_ consumer: RedisEventConsumer, until done: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !done(), ContinuousClock.now < deadline {
            try await consumer.readNew(block: .milliseconds(50))
            try await consumer.redeliverDue()
        }
    }

    @Test(
        "each subscribing service gets every event once, however often it is delivered",
        arguments: DatabaseEngine.available)
    func oncePerGroup(_ engine: DatabaseEngine) async throws {
        try await TestRedis.withClient { client in
            try await OutboxRelayTests.withOutbox(engine) { _, database in
                // given two subscribing services of one topic
                let topic = "rahat.test.\(Self.unique("topic")).changed"
                let effects = Effects()
                let consumers = ["billing", "reports"].map { name in
                    let group = Self.unique(name)
                    return (
                        group,
                        RedisEventConsumer(
                            group: group,
                            handlers: [Self.handler(topic, group: group, database: database, effects: effects)],
                            client: client, logger: .test)
                    )
                }
                for (_, consumer) in consumers { try await consumer.prepare() }

                // when 50 events are published, and then published again (as after a relay crash)
                try await Self.publish(50, of: topic, database: database, client: client)
                try await database.sql.raw("UPDATE outbox SET sent_at = NULL").run()
                try await Self.relayAll(database: database, client: client)
                for (group, consumer) in consumers {
                    try await Self.drain(consumer) { effects.callsByGroup.withLock { $0[group] ?? 0 } >= 100 }
                }

                // then each group handled 100 deliveries and applied each of the 50 events once, in order
                #expect(effects.calls.load(ordering: .relaxed) == 200)
                for (group, _) in consumers {
                    #expect(effects.applied.withLock { $0[group] } == Array(0..<50))
                }
            }
        }
    }

    @Test("a failing handler is retried with back-off, parked with its error, and replayed")
    func deadLetters() async throws {
        try await TestRedis.withClient { client in
            try await OutboxRelayTests.withOutbox(.sqlite) { _, database in
                // given a handler that fails, three attempts, 100 ms doubling
                let topic = "rahat.test.\(Self.unique("topic")).changed"
                let group = Self.unique("billing")
                let effects = Effects()
                effects.failing.store(true, ordering: .relaxed)
                var configuration = EventConsumerConfiguration()
                configuration.maxAttempts = 3
                configuration.retryDelay = .milliseconds(100)
                let consumer = RedisEventConsumer(
                    group: group, handlers: [Self.handler(topic, group: group, database: database, effects: effects)],
                    client: client, configuration: configuration, logger: .test)
                try await consumer.prepare()

                // when
                let started = ContinuousClock.now
                try await Self.publish(1, of: topic, database: database, client: client)
                var letters: [DeadLetter] = []
                let deadline = ContinuousClock.now + .seconds(10)
                while letters.isEmpty, ContinuousClock.now < deadline {
                    try await consumer.readNew(block: .milliseconds(20))
                    try await consumer.redeliverDue()
                    letters = try await RedisEventConsumer.deadLetters(group: group, client: client)
                }
                let parkedAfter = ContinuousClock.now - started

                // then: three attempts, 100 + 200 ms apart at least, nothing pending, the error kept
                #expect(effects.calls.load(ordering: .relaxed) == 3)
                #expect(parkedAfter >= .milliseconds(300))
                let letter = try #require(letters.first)
                #expect(letters.count == 1)
                #expect(letter.attempts == 3)
                #expect(letter.error == "boom: payee unknown")
                #expect(letter.type == topic)
                let pending = try await client.xpendingSummary(
                    RedisEventPublisher.streamKey(topic: topic), group: group)
                #expect(pending.count == 0)

                // when the cause is fixed and the dead letter replayed
                effects.failing.store(false, ordering: .relaxed)
                #expect(try await RedisEventConsumer.replay(letter.entryID, group: group, client: client))
                try await Self.drain(consumer) { effects.applied.withLock { $0[group] } != nil }

                // then it was applied once and the dead letters are empty
                #expect(effects.applied.withLock { $0[group] } == [0])
                #expect(try await RedisEventConsumer.deadLetters(group: group, client: client).isEmpty)
                #expect(try await RedisEventConsumer.replay(letter.entryID, group: group, client: client) == false)
            }
        }
    }

    @Test("events a dead process had taken are delivered by another of its service's processes")
    func recoversFromDeadConsumer() async throws {
        try await TestRedis.withClient { client in
            try await OutboxRelayTests.withOutbox(.sqlite) { _, database in
                // given events read by a process of the group that then died without acknowledging
                let topic = "rahat.test.\(Self.unique("topic")).changed"
                let group = Self.unique("billing")
                let effects = Effects()
                var configuration = EventConsumerConfiguration()
                configuration.retryDelay = .milliseconds(100)
                configuration.claimAfter = .seconds(2)
                let survivor = RedisEventConsumer(
                    group: group, handlers: [Self.handler(topic, group: group, database: database, effects: effects)],
                    client: client, configuration: configuration, logger: .test)
                try await survivor.prepare()
                try await Self.publish(5, of: topic, database: database, client: client)
                let started = ContinuousClock.now
                let taken = try await client.xreadgroup(
                    group: group, consumer: "crashed", streams: [(RedisEventPublisher.streamKey(topic: topic), ">")],
                    count: 10)
                #expect(taken.values.map(\.count).reduce(0, +) == 5)

                // when the survivor looks while the other process may still be working on them
                #expect(try await survivor.readNew(block: .milliseconds(20)) == 0)
                try await Task.sleep(for: .milliseconds(300))
                let early = try await survivor.redeliverDue()
                let lookedAfter = ContinuousClock.now - started
                // and again once they have been silent for longer than `claimAfter`
                try await Task.sleep(until: started + .milliseconds(2_100), clock: .continuous)
                var redelivered = 0
                let deadline = ContinuousClock.now + .seconds(10)
                while redelivered < 5, ContinuousClock.now < deadline {
                    redelivered += try await survivor.redeliverDue()
                }

                // then
                if lookedAfter < .seconds(2) { #expect(early == 0) }
                #expect(redelivered == 5)
                #expect(effects.applied.withLock { $0[group] } == Array(0..<5))
            }
        }
    }
}
