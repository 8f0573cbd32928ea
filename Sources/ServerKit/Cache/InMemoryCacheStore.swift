import DequeModule
import Synchronization

/// The embedded default's cache: one process, so a dictionary with the same lease rules as Redis.
///
/// Bounded: past `maxEntries`, expired entries go first, then the oldest fills.
package final class InMemoryCacheStore: CacheStore {
    private struct Entry {
        var value: [UInt8]
        var expires: ContinuousClock.Instant
    }

    private struct Lease {
        var token: String
        var expires: ContinuousClock.Instant
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var leases: [String: Lease] = [:]
        /// Keys in fill order; may hold keys already dropped, skipped when evicting.
        var fillOrder: Deque<String> = []
    }

    private let state = Mutex(State())
    private let maxEntries: Int
    private let clock = ContinuousClock()

    /// A store holding at most `maxEntries` values.
    package init(maxEntries: Int = 50_000) {
        self.maxEntries = max(1, maxEntries)
    }

    package func lookup(_ key: String) async throws -> CacheLookup {
        let now = clock.now
        return state.withLock { state in
            if let entry = state.entries[key] {
                if entry.expires > now { return .hit(entry.value) }
                state.entries[key] = nil
            }
            if let held = state.leases[key], held.expires > now { return .miss(nil) }
            let lease = CacheLease.make()
            state.leases[key] = Lease(token: lease.token, expires: now.advanced(by: CacheLease.lifetime))
            if state.leases.count > maxEntries {
                state.leases = state.leases.filter { $0.value.expires > now }
            }
            return .miss(lease)
        }
    }

    package func fill(_ key: String, value: [UInt8], ttl: Duration, lease: CacheLease) async throws -> Bool {
        let now = clock.now
        return state.withLock { state in
            guard let current = state.leases[key], current.token == lease.token, current.expires > now else {
                return false
            }
            state.leases[key] = nil
            state.entries[key] = Entry(value: value, expires: now.advanced(by: ttl))
            state.fillOrder.append(key)
            evict(&state, now: now)
            return true
        }
    }

    package func invalidate(_ keys: [String]) async throws {
        state.withLock { state in
            for key in keys {
                state.entries[key] = nil
                state.leases[key] = nil
            }
        }
    }

    /// How many values are held, for tests of the bound.
    package var count: Int { state.withLock { $0.entries.count } }

    /// How many fills the eviction order remembers, for tests of its bound.
    package var fillOrderLength: Int { state.withLock { $0.fillOrder.count } }

    private func evict(_ state: inout State, now: ContinuousClock.Instant) {
        // Refills after expiry or invalidation append their key again: compact before the queue
        // outgrows the entries it orders.
        if state.fillOrder.count > 2 * max(state.entries.count, 1024) { compact(&state) }
        guard state.entries.count > maxEntries else { return }
        state.entries = state.entries.filter { $0.value.expires > now }
        compact(&state)
        while state.entries.count > maxEntries, let oldest = state.fillOrder.popFirst() {
            state.entries[oldest] = nil
        }
    }

    /// Leaves each held key once in the fill order, at its latest fill, so eviction never takes a
    /// fresh entry for an older fill of the same key.
    private func compact(_ state: inout State) {
        var seen = Set<String>()
        var latestFirst: [String] = []
        for key in state.fillOrder.reversed() where state.entries[key] != nil && seen.insert(key).inserted {
            latestFirst.append(key)
        }
        state.fillOrder = Deque(latestFirst.reversed())
    }
}
