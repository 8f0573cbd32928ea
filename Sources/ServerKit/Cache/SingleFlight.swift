import Synchronization

/// Collapses concurrent calls for one key into one: the first caller's work runs, the others
/// await its result. Per process; across processes the cache's leases bound the duplicate work.
package final class SingleFlight<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Flight {
        var id: UInt64
        var task: Task<Value, any Error>
    }

    private struct State {
        var flights: [Key: Flight] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    /// An empty group.
    package init() {}

    /// The result of `work` for `key`, shared with every caller that asks while it runs.
    ///
    /// The work runs in its own task, so one impatient caller's cancellation does not fail the
    /// others waiting on it.
    package func run(_ key: Key, _ work: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let task = state.withLock { state in
            if let running = state.flights[key] { return running.task }
            let id = state.nextID
            state.nextID &+= 1
            let task = Task {
                defer { self.finish(key, id: id) }
                return try await work()
            }
            state.flights[key] = Flight(id: id, task: task)
            return task
        }
        return try await task.value
    }

    /// Stops sharing the work in flight for `key`: callers from now on start their own. Called
    /// after the underlying data changed, so nobody who asks later joins a read of the old data.
    package func forget(_ key: Key) {
        _ = state.withLock { $0.flights.removeValue(forKey: key) }
    }

    /// How many keys have work in flight, for tests.
    package var inFlight: Int { state.withLock { $0.flights.count } }

    private func finish(_ key: Key, id: UInt64) {
        state.withLock { state in
            if state.flights[key]?.id == id { state.flights[key] = nil }
        }
    }
}
