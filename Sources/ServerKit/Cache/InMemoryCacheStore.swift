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
            let lease = CacheLease.make()
            state.leases[key] = Lease(token: lease.token, expires: now.advanced(by: CacheLease.lifetime))
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
            if state.entries.updateValue(Entry(value: value, expires: now.advanced(by: ttl)), forKey: key) == nil {
                state.fillOrder.append(key)
            }
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

    private func evict(_ state: inout State, now: ContinuousClock.Instant) {
        if state.leases.count > maxEntries {
            state.leases = state.leases.filter { $0.value.expires > now }
        }
        guard state.entries.count > maxEntries else { return }
        state.entries = state.entries.filter { $0.value.expires > now }
        state.fillOrder.removeAll { state.entries[$0] == nil }
        while state.entries.count > maxEntries, let oldest = state.fillOrder.popFirst() {
            state.entries[oldest] = nil
        }
    }
}
