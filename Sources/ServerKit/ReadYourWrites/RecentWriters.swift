import Synchronization

/// Remembers for a short while which callers wrote, so that their next reads are sent to the
/// primary database and see those writes even where other reads use a lagging replica.
package protocol RecentWriters: Sendable {
    /// Notes that `caller` wrote now; remembered for `window`.
    func record(_ caller: String, for window: Duration) async throws

    /// Whether `caller` wrote within the window given when it was recorded.
    func contains(_ caller: String) async throws -> Bool
}

/// The single-process store: a dictionary of deadlines in this process, swept as it grows.
package final class InMemoryRecentWriters: RecentWriters {
    private let deadlines = Mutex<[String: ContinuousClock.Instant]>([:])
    private let sweepThreshold: Int

    /// A store that sweeps expired callers once it holds more than `sweepThreshold`.
    package init(sweepThreshold: Int = 10_000) {
        self.sweepThreshold = sweepThreshold
    }

    package func record(_ caller: String, for window: Duration) async throws {
        let now = ContinuousClock.now
        deadlines.withLock { deadlines in
            deadlines[caller] = max(deadlines[caller] ?? now, now + window)
            if deadlines.count > sweepThreshold {
                deadlines = deadlines.filter { $0.value > now }
            }
        }
    }

    package func contains(_ caller: String) async throws -> Bool {
        let now = ContinuousClock.now
        return deadlines.withLock { deadlines in
            guard let deadline = deadlines[caller] else { return false }
            if deadline > now { return true }
            deadlines[caller] = nil
            return false
        }
    }
}
