package import Foundation
package import Logging
import MetricCatalog
import Metrics
import NIOCore
package import RedisClient
import ServerKit
import ServiceLifecycle

/// An event parked after its last failed delivery, with the error that ended it.
package struct DeadLetter: Sendable, Equatable {
    /// The entry in the group's dead-letter stream; what `replay` takes.
    package var entryID: String
    package var eventID: String
    package var type: String
    package var attempts: Int
    package var error: String
    package var failedAt: Date
    /// The envelope.
    package var json: String
}

/// Delivers events from their Redis Streams to one subscribing service's handlers
/// (docs/architecture.md, "Events: the outbox"): the service is a consumer group (`group`, e.g. `core`), each of its processes a
/// consumer, so each event reaches one process of every subscribing service.
///
/// An event is acknowledged after its handler returned. One that failed stays pending and is
/// delivered again once its back-off has passed (1 s doubling to 5 min by default), by whichever
/// process of the group looks first — which also recovers events a crashed process held. After
/// `maxAttempts` deliveries it is parked, with its error, in the group's dead-letter stream
/// `rahat:events:dead:<group>`, from where `replay` sends it back through the group's retry
/// stream `rahat:events:retry:<group>` (the other groups are not bothered again).
package final class RedisEventConsumer: Service, Sendable {
    private let group: String
    private let consumer: String
    private let handlers: [String: [EventHandler]]
    private let client: RedisClient
    private let configuration: EventConsumerConfiguration
    private let logger: Logger
    private let warnings = LogThrottle(interval: .seconds(30))
    private let deadLettered: Counter

    package init(
        group: String,
        handlers: [EventHandler],
        client: RedisClient,
        configuration: EventConsumerConfiguration = EventConsumerConfiguration(),
        logger: Logger
    ) {
        self.group = group
        self.consumer =
            "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-"
            + UUID().uuidString.prefix(8).lowercased()
        var byTopic: [String: [EventHandler]] = [:]
        for handler in handlers {
            for topic in handler.topics { byTopic[topic, default: []].append(handler) }
        }
        self.handlers = byTopic
        self.client = client
        self.configuration = configuration
        self.logger = logger
        self.deadLettered = MessagingMetrics.eventsDeadLettered.counter(group)
    }

    /// The dead-letter stream of a consumer group.
    package static func deadLetterKey(group: String) -> String { "\(deadLetterKeyPrefix)\(group)" }

    /// What every dead-letter stream's key starts with.
    package static let deadLetterKeyPrefix = "rahat:events:dead:"
    /// The stream replayed events reach a consumer group through.
    package static func retryKey(group: String) -> String { "rahat:events:retry:\(group)" }

    private var streams: [String] {
        handlers.keys.sorted().map(RedisEventPublisher.streamKey(topic:)) + [Self.retryKey(group: group)]
    }

    /// Creates the group on every stream it reads, from the streams' beginning, so events
    /// published before the service first subscribed are delivered too.
    package func prepare() async throws {
        for stream in streams {
            try await client.xgroupCreate(stream, group: group, startID: "0", makeStream: true)
        }
    }

    package func run() async throws {
        await withGracefulShutdownHandler {
            await self.loop()
        } onGracefulShutdown: {
        }
    }

    private func loop() async {
        var prepared = false
        var failures = 0
        var nextRetryScan = ContinuousClock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if !prepared {
                    try await prepare()
                    prepared = true
                }
                if ContinuousClock.now >= nextRetryScan {
                    try await redeliverDue()
                    nextRetryScan = ContinuousClock.now + min(configuration.retryDelay, .seconds(1))
                }
                try await readNew()
                failures = 0
            } catch {
                // The stream or the group is gone (Redis restarted empty, or the key was deleted).
                if let redis = error as? RedisError, redis.code == "NOGROUP" { prepared = false }
                failures += 1
                if failures == 1 || warnings.shouldLog() {
                    logger.warning(
                        "event consumer cannot reach Redis; retrying",
                        metadata: ["group": "\(group)", "error": "\(String(reflecting: error))"])
                }
                try? await Task.sleep(for: .milliseconds(min(100 << min(failures, 6), 5_000)))
            }
        }
    }

    /// Reads and handles what arrived since the last read; returns how many entries it handled.
    @discardableResult
    package func readNew(block: Duration? = nil) async throws -> Int {
        let batches = try await client.xreadgroup(
            group: group, consumer: consumer, streams: streams.map { ($0, ">") },
            count: configuration.batchSize, block: block ?? configuration.block)
        // One stream per topic: handle what arrived in the order it was published (stream entry
        // ids are publication times), not topic by topic.
        let entries = batches.flatMap { stream, entries in entries.map { (stream, $0) } }
            .sorted { Self.order($0.1.id) < Self.order($1.1.id) }
        for (stream, entry) in entries {
            try await deliver(entry, from: stream, attempt: 1)
        }
        return entries.count
    }

    /// A stream entry id (`<milliseconds>-<sequence>`) as a sortable pair.
    private static func order(_ id: String) -> (Int, Int) {
        let parts = id.split(separator: "-")
        return (Int(parts.first ?? "") ?? 0, Int(parts.count > 1 ? parts[1] : "") ?? 0)
    }

    /// Delivers again the pending entries whose back-off has passed (failed, or held by a
    /// consumer that died); returns how many.
    @discardableResult
    package func redeliverDue() async throws -> Int {
        var count = 0
        for stream in streams {
            let pending = try await client.xpending(
                stream, group: group, count: configuration.batchSize, minIdle: configuration.retryDelay)
            for item in pending {
                // This consumer handles one entry at a time and none is running now, so its own pending
                // entries failed: they wait out their back-off. Another consumer's may still be running:
                // they are taken over only when that consumer has been silent long enough to be dead.
                var wait = configuration.delay(afterAttempt: item.deliveries)
                if item.consumer != consumer { wait = max(wait, configuration.claimAfter) }
                guard item.idle >= wait else { continue }
                // Claiming checks the idle time again, so two processes never both take an entry.
                let claimed = try await client.xclaim(
                    stream, group: group, consumer: consumer, minIdle: wait, ids: [item.id])
                for entry in claimed {
                    try await deliver(entry, from: stream, attempt: item.deliveries + 1)
                    count += 1
                }
            }
        }
        return count
    }

    private func deliver(_ entry: RedisStreamEntry, from stream: String, attempt: Int) async throws {
        let json = entry.fields["event"].map { String(buffer: $0) } ?? ""
        let type = entry.fields["type"].map { String(buffer: $0) } ?? ""
        let event: ReceivedEvent
        do {
            event = try ReceivedEvent(json: json)
        } catch {
            try await park(entry, from: stream, attempts: attempt, error: "\(error)")
            return
        }
        do {
            try await EventHandling.handle(event, group: group, attempt: attempt, handlers: handlers[type] ?? [])
            try await client.xack(stream, group: group, ids: [entry.id])
        } catch {
            let reason = String(describing: error)
            if attempt >= configuration.maxAttempts {
                try await park(entry, from: stream, attempts: attempt, error: reason)
                logger.error(
                    "event handler failed for the last time; parked in the dead letters",
                    metadata: [
                        "group": "\(group)", "event_id": "\(event.id)", "event_type": "\(type)",
                        "attempts": "\(attempt)", "error": "\(reason)",
                    ])
            } else {
                logger.warning(
                    "event handler failed; will retry",
                    metadata: [
                        "group": "\(group)", "event_id": "\(event.id)", "event_type": "\(type)",
                        "attempt": "\(attempt)", "error": "\(reason)",
                    ])
            }
        }
    }

    private func park(_ entry: RedisStreamEntry, from stream: String, attempts: Int, error: String) async throws {
        var fields: [(String, any RESPArgument)] = [
            ("stream", stream), ("entry", entry.id), ("attempts", attempts), ("error", error),
            ("failedAt", Date().formatted(.iso8601)),
        ]
        for name in ["id", "type", "aggregate", "event"] {
            if let value = entry.fields[name] { fields.append((name, String(buffer: value))) }
        }
        try await client.xadd(Self.deadLetterKey(group: group), fields: fields)
        try await client.xack(stream, group: group, ids: [entry.id])
        deadLettered.increment()
    }

    /// The group's dead letters, oldest first.
    package static func deadLetters(group: String, limit: Int = 100, client: RedisClient) async throws -> [DeadLetter] {
        let reply = try await client.send(
            RedisCommand("XRANGE", arguments: [deadLetterKey(group: group), "-", "+", "COUNT", limit]))
        return (reply.array ?? []).compactMap(letter)
    }

    /// Sends a dead letter back to its group for a fresh set of attempts; false if there is no
    /// such dead letter.
    @discardableResult
    package static func replay(_ entryID: String, group: String, client: RedisClient) async throws -> Bool {
        let reply = try await client.send("XRANGE", deadLetterKey(group: group), entryID, entryID)
        guard let letter = reply.array?.first.flatMap(letter) else { return false }
        try await client.xadd(
            retryKey(group: group),
            fields: [("id", letter.eventID), ("type", letter.type), ("event", letter.json)])
        _ = try await client.send("XDEL", deadLetterKey(group: group), entryID)
        return true
    }

    private static func letter(_ element: RESPValue) -> DeadLetter? {
        guard let parts = element.array, parts.count == 2, let entryID = parts[0].string,
            let raw = try? parts[1].expectFieldDictionary("XRANGE")
        else { return nil }
        let fields = raw.mapValues { String(buffer: $0) }
        return DeadLetter(
            entryID: entryID, eventID: fields["id"] ?? "", type: fields["type"] ?? "",
            attempts: Int(fields["attempts"] ?? "") ?? 0, error: fields["error"] ?? "",
            failedAt: (try? Date(fields["failedAt"] ?? "", strategy: .iso8601)) ?? Date(timeIntervalSince1970: 0),
            json: fields["event"] ?? "")
    }
}
