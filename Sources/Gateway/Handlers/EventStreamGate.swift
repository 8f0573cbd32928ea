import ServerKit
import Synchronization

/// Counts the job progress streams this gateway serves, per caller and in all, so that no one
/// caller (and no crowd of them) can hold the gateway's connections or the job store's attention
/// without bound. A stream holds its place from ``admit(_:)`` until its ``Admission`` ends.
final class EventStreamGate: Sendable {
    let limits: EventStreamLimits
    private let open = Mutex(OpenStreams())

    private struct OpenStreams {
        var total = 0
        var perCaller: [String: Int] = [:]
    }

    init(limits: EventStreamLimits) {
        self.limits = limits
    }

    /// A place for one more of `caller`'s streams, or the reason there is none.
    func admit(_ caller: String) throws -> Admission {
        let refusal: ServiceError? = open.withLock { open in
            if open.perCaller[caller, default: 0] >= limits.perCaller {
                return ServiceError(
                    .resourceExhausted, reason: "stream.too_many",
                    message:
                        "You already follow \(limits.perCaller) jobs at once, the most allowed; close one and try again.",
                    retryAfterSeconds: 5)
            }
            if open.total >= limits.total {
                return ServiceError(
                    .unavailable, reason: "stream.capacity",
                    message:
                        "This gateway follows as many jobs as it can; poll GET /v1/jobs/{id} or try again shortly.",
                    retryAfterSeconds: 5)
            }
            open.total += 1
            open.perCaller[caller, default: 0] += 1
            return nil
        }
        if let refusal { throw refusal }
        return Admission(gate: self, caller: caller)
    }

    /// Streams open now, for `caller` or in all.
    func count(for caller: String? = nil) -> Int {
        open.withLock { open in caller.map { open.perCaller[$0, default: 0] } ?? open.total }
    }

    fileprivate func release(_ caller: String) {
        open.withLock { open in
            open.total -= 1
            let left = open.perCaller[caller, default: 1] - 1
            open.perCaller[caller] = left > 0 ? left : nil
        }
    }

    /// One stream's place; gives it back once, however often ``end()`` is called.
    final class Admission: Sendable {
        private let gate: EventStreamGate
        private let caller: String
        private let ended = Atomic(false)

        fileprivate init(gate: EventStreamGate, caller: String) {
            self.gate = gate
            self.caller = caller
        }

        func end() {
            if !ended.exchange(true, ordering: .acquiringAndReleasing) { gate.release(caller) }
        }

        deinit { end() }
    }
}
