import Synchronization

/// Wakes a waiting background loop early; a signal sent while nobody waits is kept for the next
/// wait. Loops poll on a timeout anyway (other processes' work is only seen by polling), and the
/// signal lets work this process created start at once instead of at the next poll.
package final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    /// A signal nobody has waited for yet.
    package init() {}

    /// Wakes every current waiter, or the next one to wait if there is none.
    package func signal() {
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            guard !state.waiters.isEmpty else {
                state.pending = true
                return []
            }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// Returns when signalled, after `timeout`, or when the task is cancelled, whichever is first;
    /// `true` when signalled.
    @discardableResult
    package func wait(timeout: Duration) async -> Bool {
        let signalled = state.withLock { state in
            defer { state.pending = false }
            return state.pending
        }
        if signalled { return true }
        if Task.isCancelled { return false }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            group.addTask { await self.waitForSignal() }
            var signalled = await group.next() ?? false
            group.cancelAll()
            // The signal may have arrived just as the timeout did: it was consumed, so report it.
            for await result in group { signalled = signalled || result }
            return signalled
        }
    }

    /// Returns when signalled or when the task is cancelled; `true` when signalled. Costs no
    /// timer, for waits that may last as long as the process.
    package func wait() async -> Bool {
        let signalled = state.withLock { state in
            defer { state.pending = false }
            return state.pending
        }
        if signalled { return true }
        return await waitForSignal()
    }

    /// `true` when woken by a signal, `false` when cancelled.
    private func waitForSignal() async -> Bool {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let resumeNow = state.withLock { state -> Bool? in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    // Cancelled before registering: the cancellation handler found nothing to resume.
                    if Task.isCancelled { return false }
                    state.waiters[id] = continuation
                    return nil
                }
                if let resumeNow { continuation.resume(returning: resumeNow) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: false)
        }
    }
}
