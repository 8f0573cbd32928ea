import AuthService
import Dispatch
import Testing

/// Password hashes wait for one of a few threads; past the bound a sign-in is refused at once.
@Suite("Password hash queue")
struct HashQueueTests {
    @Test("past its limit the queue refuses at once as busy, and admits again once a hash ends")
    func refusesPastItsLimit() async throws {
        // given a queue of one whose only place a hash holds until released
        let queue = HashQueue(limit: 1)
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        async let first = queue.run { () -> Int in
            started.signal()
            release.wait()
            return 1
        }
        await withCheckedContinuation { (running: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                started.wait()
                running.resume()
            }
        }

        // when another arrives meanwhile
        var refusal: (any Error)?
        do {
            _ = try await queue.run { 2 }
        } catch {
            refusal = error
        }
        release.signal()

        // then it was refused as busy, without running, and the queue admits again afterwards
        guard case .busy = try #require(refusal as? AuthError) else {
            Issue.record("refused with \(String(describing: refusal)), not busy")
            return
        }
        #expect(try await first == 1)
        #expect(try await queue.run { 3 } == 3)
    }
}
