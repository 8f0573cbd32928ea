import FluentKit
import Foundation
import Messaging
import Persistence
import SQLKit
import Synchronization
import TestInfrastructure
import Testing

@Suite("In-process event bus (embedded default)")
struct InProcessEventBusTests {
    /// The outbox database and a messaging database beside it.
    static func withBus<T: Sendable>(
        _ engine: DatabaseEngine,
        configuration: EventConsumerConfiguration = EventConsumerConfiguration(),
        _ body: (ServiceDatabase, ServiceDatabase) async throws -> T
    ) async throws -> T {
        try await OutboxRelayTests.withOutbox(engine) { testDatabase, database in
            let messaging = try ServiceDatabase(
                configuration: testDatabase.configuration(for: "messaging"), schema: "messaging", logger: .test)
            do {
                try await messaging.migrate(InProcessEventBus.migrations)
                let result = try await body(database, messaging)
                await messaging.shutdown()
                return result
            } catch {
                await messaging.shutdown()
                throw error
            }
        }
    }

    struct Crash: Error {}

    /// Stands for a process that dies after delivering but before the outbox records it.
    struct CrashingAfterDelivery: EventPublisher {
        let delivering: any EventPublisher
        func publish(_ events: [StoredOutboxEvent]) async throws {
            try await delivering.publish(events)
            throw Crash()
        }
    }

    static func write(_ count: Int, of topic: String, on database: ServiceDatabase) async throws {
        try await database.db.transaction { transaction in
            try await Outbox.append(
                (0..<count).map { number in
                    OutboxEvent(
                        type: topic, aggregateType: "thing", aggregateID: "a", payload: ["n": .int(Int64(number))],
                        occurredAt: Date())
                },
                on: transaction)
        }
    }

    @Test(
        "events go straight to every subscribing service, once in effect, also when delivery is interrupted",
        arguments: DatabaseEngine.available)
    func delivers(_ engine: DatabaseEngine) async throws {
        try await Self.withBus(engine) { database, messaging in
            // given two services subscribed to one topic
            let topic = "rahat.test.thing.changed"
            let effects = EventConsumerTests.Effects()
            let bus = InProcessEventBus(database: messaging, logger: .test)
            for group in ["billing", "reports"] {
                bus.subscribe(
                    group: group,
                    handlers: [EventConsumerTests.handler(topic, group: group, database: database, effects: effects)])
            }
            try await Self.write(20, of: topic, on: database)

            // when the first delivery is cut short before the outbox records it
            let crashing = OutboxRelay(
                service: "relay_test", database: database,
                publisher: CrashingAfterDelivery(delivering: bus.publisher), logger: .test)
            await #expect(throws: Crash.self) { try await crashing.relayOnce() }
            #expect(try await Outbox.backlog(on: database).count == 20)
            // and a new process's relay delivers what is still unsent
            let restarted = InProcessEventBus(database: messaging, logger: .test)
            for group in ["billing", "reports"] {
                restarted.subscribe(
                    group: group,
                    handlers: [EventConsumerTests.handler(topic, group: group, database: database, effects: effects)])
            }
            let relay = OutboxRelay(
                service: "relay_test", database: database, publisher: restarted.publisher, logger: .test)
            #expect(try await relay.relayOnce() == 20)

            // then every event reached both services twice and took effect once
            #expect(effects.calls.load(ordering: .relaxed) == 80)
            #expect(effects.applied.withLock { $0["billing"] } == Array(0..<20))
            #expect(effects.applied.withLock { $0["reports"] } == Array(0..<20))
            #expect(try await Outbox.backlog(on: database).count == 0)
            #expect(try await restarted.deadLetters(group: "billing").isEmpty)
        }
    }

    @Test("a failing handler is retried with back-off, kept as a dead letter with its error, and replayed")
    func deadLetters() async throws {
        var configuration = EventConsumerConfiguration()
        configuration.maxAttempts = 3
        configuration.retryDelay = .milliseconds(100)
        try await Self.withBus(.sqlite, configuration: configuration) { database, messaging in
            // given
            let topic = "rahat.test.thing.changed"
            let effects = EventConsumerTests.Effects()
            effects.failing.store(true, ordering: .relaxed)
            let bus = InProcessEventBus(database: messaging, configuration: configuration, logger: .test)
            bus.subscribe(
                group: "billing",
                handlers: [EventConsumerTests.handler(topic, group: "billing", database: database, effects: effects)])
            try await Self.write(1, of: topic, on: database)

            // when
            let relay = OutboxRelay(service: "relay_test", database: database, publisher: bus.publisher, logger: .test)
            #expect(try await relay.relayOnce() == 1)
            var letters: [DeadLetter] = []
            let deadline = ContinuousClock.now + .seconds(10)
            while letters.isEmpty, ContinuousClock.now < deadline {
                try await bus.retryDue()
                letters = try await bus.deadLetters(group: "billing")
                try await Task.sleep(for: .milliseconds(20))
            }

            // then the event was tried three times and kept with its error; the outbox moved on
            #expect(effects.calls.load(ordering: .relaxed) == 3)
            let letter = try #require(letters.first)
            #expect(letter.attempts == 3)
            #expect(letter.error == "boom: payee unknown")
            #expect(try await Outbox.backlog(on: database).count == 0)

            // when fixed and replayed
            effects.failing.store(false, ordering: .relaxed)
            #expect(try await bus.replay(letter.entryID, group: "billing"))
            #expect(try await bus.retryDue() == 1)

            // then
            #expect(effects.applied.withLock { $0["billing"] } == [0])
            #expect(try await bus.deadLetters(group: "billing").isEmpty)
            #expect(try await bus.replay(letter.entryID, group: "billing") == false)
        }
    }
}
