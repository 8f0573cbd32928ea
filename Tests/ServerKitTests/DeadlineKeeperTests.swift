import ServerKit
import Synchronization
import Testing

@Suite("Deadline keeper")
struct DeadlineKeeperTests {
    /// Whether an operation saw its cancellation.
    final class Seen: Sendable {
        private let cancelled = Mutex(false)
        func markCancelled() { cancelled.withLock { $0 = true } }
        var wasCancelled: Bool { cancelled.withLock { $0 } }
    }

    @Test("an operation that finishes in time gives its result, and leaves nothing waiting")
    func inTime() async throws {
        let keeper = DeadlineKeeper(tick: .milliseconds(10))
        let result = try await keeper.run(within: .seconds(5)) { 42 }
        #expect(result == 42)
        #expect(keeper.waiting == 0)
        // many at once, all finished: the table is empty again, so no clock keeps running for them
        try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<500 { group.addTask { try await keeper.run(within: .seconds(5)) { index } } }
            var sum = 0
            for try await value in group { sum += value }
            #expect(sum == (0..<500).reduce(0, +))
        }
        #expect(keeper.waiting == 0)
    }

    @Test("an operation that overruns is cancelled and answered deadlineExceeded, about on time")
    func overrun() async throws {
        let keeper = DeadlineKeeper(tick: .milliseconds(10))
        let seen = Seen()
        let started = ContinuousClock.now
        let error = await #expect(throws: ServiceError.self) {
            try await keeper.run(within: .milliseconds(100)) {
                do {
                    try await Task.sleep(for: .seconds(30))
                } catch {
                    seen.markCancelled()
                    throw error
                }
            }
        }
        let took = ContinuousClock.now - started
        #expect(error?.kind == .deadlineExceeded)
        #expect(error?.reason == "request.deadline_exceeded")
        #expect(seen.wasCancelled)
        #expect(took >= .milliseconds(100) && took < .seconds(5), "took \(took)")
        #expect(keeper.waiting == 0)
    }

    @Test("an operation's own error is its caller's, and cancelling the caller cancels the operation")
    func errorsAndCancellation() async throws {
        struct Refused: Error {}
        let keeper = DeadlineKeeper(tick: .milliseconds(10))
        await #expect(throws: Refused.self) {
            try await keeper.run(within: .seconds(5)) { () async throws -> Int in throw Refused() }
        }
        let seen = Seen()
        let caller = Task {
            try await keeper.run(within: .seconds(30)) {
                do {
                    try await Task.sleep(for: .seconds(30))
                } catch {
                    seen.markCancelled()
                    throw error
                }
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
        #expect(seen.wasCancelled)
        #expect(keeper.waiting == 0)
    }
}
