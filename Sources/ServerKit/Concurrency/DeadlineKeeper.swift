import Synchronization

/// Bounds how long operations run, many at once, with one clock instead of a timer each.
///
/// grpc-swift bounds a call with a child task sleeping until the deadline, on both sides of the
/// call. On Linux that sleep is a Dispatch timer that cannot be withdrawn: a call that finished
/// long ago still holds its sleeping task until its deadline passes, and at thousands of requests
/// a second that is over a hundred thousand armed timers and a few hundred megabytes. Here each
/// bounded operation waits on a continuation in one table, and one loop, which runs only while
/// something waits, resumes the overdue ones every ``tick``; an operation that ends first takes
/// its entry out at once.
package final class DeadlineKeeper: Sendable {
    /// How often overdue operations are looked for: a deadline is met up to this late.
    package let tick: Duration

    private enum Wait {
        /// Registered before its continuation: cancellation may come first.
        case starting
        case waiting(deadline: ContinuousClock.Instant, CheckedContinuation<Void, any Error>)
        case cancelled
    }

    private struct State {
        var waits: [Int: Wait] = [:]
        var nextID = 0
        var ticking = false
    }

    private let state = Mutex(State())

    /// A keeper that checks for overdue operations every `tick`.
    package init(tick: Duration = .milliseconds(50)) {
        self.tick = tick
    }

    /// The keeper a process shares.
    package static let shared = DeadlineKeeper()

    /// Runs `operation` and returns its result; if it has not finished within `timeout`, cancels it,
    /// waits for it to end, and throws ``ServiceError`` `.deadlineExceeded`.
    package func run<Result: Sendable>(
        within timeout: Duration,
        _ operation: @Sendable () async throws -> Result
    ) async throws -> Result {
        try await withoutActuallyEscaping(operation) { operation in
            try await withThrowingTaskGroup(of: Outcome<Result>.self) { group in
                group.addTask { .finished(try await operation()) }
                group.addTask {
                    try await self.wait(until: ContinuousClock.now + timeout)
                    return .expired
                }
                // Both children are awaited before the group returns, so `operation` does not escape.
                guard let first = try await group.next() else { throw CancellationError() }
                group.cancelAll()
                switch first {
                case .finished(let result):
                    return result
                case .expired:
                    throw ServiceError(
                        .deadlineExceeded, reason: "request.deadline_exceeded",
                        message: "The request did not finish within \(Self.describe(timeout)).")
                }
            }
        }
    }

    private enum Outcome<Result: Sendable>: Sendable {
        case finished(Result)
        case expired
    }

    /// Returns at `deadline` (give or take a tick); throws `CancellationError` when cancelled first.
    private func wait(until deadline: ContinuousClock.Instant) async throws {
        let id = state.withLock { state in
            let id = state.nextID
            state.nextID &+= 1
            state.waits[id] = .starting
            return id
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (cancelled, startTicking) = state.withLock { state -> (Bool, Bool) in
                    guard case .starting = state.waits[id] else {
                        state.waits[id] = nil
                        return (true, false)
                    }
                    state.waits[id] = .waiting(deadline: deadline, continuation)
                    defer { state.ticking = true }
                    return (false, !state.ticking)
                }
                if cancelled {
                    continuation.resume(throwing: CancellationError())
                } else if startTicking {
                    // Runs while anything waits, and ends with the last wait, so an idle process
                    // has no loop to keep.
                    Task { await self.keepTime() }
                }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                switch state.waits[id] {
                case .starting:
                    state.waits[id] = .cancelled
                    return nil
                case .waiting(_, let continuation):
                    state.waits[id] = nil
                    return continuation
                case .cancelled, nil:
                    return nil
                }
            }
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// Resumes overdue waits every tick until none is left.
    private func keepTime() async {
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let (overdue, done) = state.withLock { state -> ([CheckedContinuation<Void, any Error>], Bool) in
                var overdue: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
                for (id, wait) in state.waits {
                    if case .waiting(let deadline, let continuation) = wait, deadline <= now {
                        overdue.append((id, continuation))
                    }
                }
                for wait in overdue { state.waits[wait.id] = nil }
                if state.waits.isEmpty { state.ticking = false }
                return (overdue.map(\.continuation), state.waits.isEmpty)
            }
            for continuation in overdue { continuation.resume() }
            if done { return }
        }
    }

    /// The number of operations waiting, for tests.
    package var waiting: Int {
        state.withLock { $0.waits.count }
    }

    private static func describe(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
    }
}
