import Synchronization

/// Lets one task at a time through, in arrival order. Waiting holds no thread and no database
/// connection, and ends with `CancellationError` when the waiting task is cancelled (its RPC's
/// deadline passed). For work that is serialised anyway, such as appends to the ledger's chain:
/// queueing here keeps a burst of writers from each holding a pooled connection while blocked on
/// the same row lock, starving every other query of connections.
package final class SerialGate: Sendable {
    private struct State {
        var busy = false
        var waiters: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// Runs `body` once every task that arrived earlier has finished its own.
    package func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await enter()
        defer { leave() }
        return try await body()
    }

    private func enter() async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Decided under the lock: a leave() between two steps here would otherwise open the
                // gate while this task queues behind nobody.
                let entered = state.withLock { state -> Bool? in
                    if Task.isCancelled { return nil }
                    if !state.busy {
                        state.busy = true
                        return true
                    }
                    state.waiters.append((id, continuation))
                    return false
                }
                switch entered {
                case true?: continuation.resume()
                case nil: continuation.resume(throwing: CancellationError())
                case false?: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Hands the gate to the next waiter, or opens it.
    private func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard !state.waiters.isEmpty else {
                state.busy = false
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}
