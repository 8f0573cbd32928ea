import ServerKit
import Synchronization
import Testing

@Suite("Serial gate")
struct SerialGateTests {
    /// What ran inside the gate, and whether anything ran beside it.
    final class Record: Sendable {
        private let state = Mutex((log: [String](), inside: 0))

        func enter() -> Bool {
            state.withLock {
                $0.inside += 1
                return $0.inside > 1
            }
        }

        func leave(_ entry: String) {
            state.withLock {
                $0.log.append(entry)
                $0.inside -= 1
            }
        }

        var log: [String] { state.withLock { $0.log } }
    }

    @Test("one task at a time, in arrival order; a cancelled waiter leaves the queue without entering")
    func serialises() async throws {
        // given: one task holds the gate while three queue behind it, the second of them cancelled
        let gate = SerialGate()
        let record = Record()
        let holding = AsyncStream<Void>.makeStream()
        let release = AsyncStream<Void>.makeStream()
        let first = Task {
            try await gate.run {
                holding.continuation.yield()
                _ = record.enter()
                for await _ in release.stream { break }
                record.leave("first")
            }
        }
        for await _ in holding.stream { break }
        func queued(_ name: String) -> Task<Void, any Error> {
            Task {
                try await gate.run {
                    let overlapping = record.enter()
                    try await Task.sleep(for: .milliseconds(5))
                    record.leave(overlapping ? "\(name) overlapped" : name)
                }
            }
        }
        let second = queued("second")
        try await Task.sleep(for: .milliseconds(50))
        let cancelled = queued("cancelled")
        try await Task.sleep(for: .milliseconds(50))
        let third = queued("third")
        try await Task.sleep(for: .milliseconds(50))
        // when
        cancelled.cancel()
        release.continuation.yield()
        try await first.value
        try await second.value
        try await third.value
        let cancellation = await cancelled.result
        // then
        #expect(record.log == ["first", "second", "third"])
        #expect(throws: CancellationError.self) { try cancellation.get() }
    }
}
