package import Logging
import MetricCatalog
import Metrics
package import RedisClient
import ServerKit
import ServiceLifecycle

/// Keeps the event streams from growing without end, removing only what every consumer group has
/// read and acknowledged.
///
/// A stream capped by length drops the oldest entries whether or not a slow or stopped consumer
/// has read them; those events would then never reach it. Instead, every `interval` each stream
/// is trimmed (`XTRIM MINID ~`) to just before the oldest entry some group still needs: its oldest
/// unacknowledged entry, or the first it has not been given. A stalled group therefore holds its
/// stream's history until it resumes (its length is reported as `rahat_events_stream_entries`,
/// and a warning is logged past `warnAbove`). A stream no group reads is capped at
/// `unreadMaxLength`: nobody subscribes to it. Every replica may run one; trimming is idempotent.
package final class RedisStreamTrimmer: Service, Sendable {
    private let client: RedisClient
    private let interval: Duration
    private let unreadMaxLength: Int
    private let warnAbove: Int
    private let logger: Logger
    private let warnings = LogThrottle(interval: .seconds(600))

    package init(
        client: RedisClient, interval: Duration = .seconds(60), unreadMaxLength: Int = 100_000,
        warnAbove: Int = 1_000_000, logger: Logger
    ) {
        self.client = client
        self.interval = interval
        self.unreadMaxLength = unreadMaxLength
        self.warnAbove = warnAbove
        self.logger = logger
    }

    package func run() async throws {
        await repeatUntilShutdown(every: interval) {
            do {
                _ = try await trimOnce()
            } catch {
                logger.debug("could not trim the event streams; trying again later", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Trims every event stream once, and reports each consumer group's lag (entries not yet
    /// given to it, over all its streams); returns how many entries went.
    package func trimOnce() async throws -> Int {
        var removed = 0
        var lags: [String: Int] = [:]
        for stream in try await client.scanKeys(matching: "rahat:events:*", type: "stream")
        where !stream.hasPrefix(RedisEventConsumer.deadLetterKeyPrefix) {
            removed += try await trim(stream, lags: &lags)
        }
        for (group, lag) in lags { MessagingMetrics.eventsConsumerLag.gauge(group).record(lag) }
        return removed
    }

    /// Trims one stream and reports its length, trimmed or not.
    private func trim(_ stream: String, lags: inout [String: Int]) async throws -> Int {
        let groups = try await client.xinfoGroups(stream)
        for group in groups { lags[group.name, default: 0] += group.lag ?? 0 }
        let removed = try await trimToReaders(stream, groups: groups)
        let length = try await client.xlen(stream)
        MessagingMetrics.eventsStreamEntries.gauge(stream).record(length)
        if length > warnAbove, warnings.shouldLog() {
            logger.warning(
                "an event stream keeps growing: a consumer group has stopped reading it",
                metadata: ["stream": "\(stream)", "entries": "\(length)"])
        }
        return removed
    }

    /// Removes what every consumer group has read and acknowledged, or, from a stream no group
    /// reads, the oldest entries past ``unreadMaxLength``.
    private func trimToReaders(
        _ stream: String, groups: [(name: String, lastDeliveredID: String, pending: Int, lag: Int?)]
    ) async throws -> Int {
        if groups.isEmpty { return try await client.xtrim(stream, maxLength: unreadMaxLength) }
        var oldestNeeded: StreamID?
        for group in groups {
            var needed = StreamID(group.lastDeliveredID)?.next
            if group.pending > 0,
                let oldestPending = try await client.xpendingSummary(stream, group: group.name).smallest
            {
                needed = StreamID(oldestPending)
            }
            // A position that cannot be read could be anywhere: keep everything.
            guard let needed else { return 0 }
            oldestNeeded = oldestNeeded.map { min($0, needed) } ?? needed
        }
        guard let oldestNeeded else { return 0 }
        return try await client.xtrim(stream, minimumID: oldestNeeded.description)
    }
}

/// A stream entry id, `milliseconds-sequence`, ordered as Redis orders them.
struct StreamID: Comparable, CustomStringConvertible {
    var milliseconds: UInt64
    var sequence: UInt64

    init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let milliseconds = UInt64(parts[0]), let sequence = UInt64(parts[1]) else {
            return nil
        }
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// The smallest id after this one.
    var next: StreamID {
        sequence == .max
            ? StreamID(milliseconds: milliseconds + 1, sequence: 0)
            : StreamID(milliseconds: milliseconds, sequence: sequence + 1)
    }

    var description: String { "\(milliseconds)-\(sequence)" }

    static func < (lhs: StreamID, rhs: StreamID) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }
}
