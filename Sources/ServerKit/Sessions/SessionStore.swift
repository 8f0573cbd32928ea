import Synchronization

/// Where browser sessions live between requests: Redis shared by every gateway replica, or this
/// process. Values are opaque bytes kept for a time-to-live that each save renews.
package protocol SessionStore: Sendable {
    /// The value saved under `key`, or nil when there is none or it expired.
    func load(_ key: String) async throws -> [UInt8]?

    /// Saves `value` under `key` for `ttl`, replacing what was there.
    func save(_ key: String, value: [UInt8], ttl: Duration) async throws

    /// Forgets `key`; nothing happens when there is no such key.
    func remove(_ key: String) async throws
}

/// The single-process store: a dictionary of values and deadlines, swept as it grows.
package final class InMemorySessionStore: SessionStore {
    private struct Entry {
        var value: [UInt8]
        var deadline: ContinuousClock.Instant
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let sweepThreshold: Int

    /// A store that sweeps expired sessions once it holds more than `sweepThreshold`.
    package init(sweepThreshold: Int = 10_000) {
        self.sweepThreshold = sweepThreshold
    }

    package func load(_ key: String) async throws -> [UInt8]? {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            if entry.deadline > now { return entry.value }
            entries[key] = nil
            return nil
        }
    }

    package func save(_ key: String, value: [UInt8], ttl: Duration) async throws {
        let now = ContinuousClock.now
        entries.withLock { entries in
            entries[key] = Entry(value: value, deadline: now + ttl)
            if entries.count > sweepThreshold {
                entries = entries.filter { $0.value.deadline > now }
            }
        }
    }

    package func remove(_ key: String) async throws {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }
}
