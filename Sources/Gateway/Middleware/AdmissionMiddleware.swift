import DequeModule
import HTTPTypes
import MetricCatalog
import Metrics
import OpenAPIRuntime
import ServerKit
import Synchronization

/// How much work the gateway takes on at once, so that overload is refused quickly instead of
/// slowing every request down.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_MAX_IN_FLIGHT` | `64` | API requests a gateway process works on at once (0: no limit) |
/// | `RAHAT_ADMISSION_QUEUE` | `256` | requests that may wait for one of those places; one more is refused at once |
/// | `RAHAT_ADMISSION_WAIT_MS` | `1000` | how long a request waits for a place before it is refused |
///
/// A refused request is answered 503 (`service.overloaded`) with `Retry-After: 1`. Nothing of
/// it ran, so a client may send it again whatever it was.
package struct AdmissionLimits: Sendable, Equatable {
    /// Requests handled at once; zero turns admission control off.
    package var inFlight: Int
    package var queue: Int
    package var maxWait: Duration

    package init(inFlight: Int = 64, queue: Int = 256, maxWait: Duration = .seconds(1)) {
        self.inFlight = inFlight
        self.queue = queue
        self.maxWait = maxWait
    }

    init(from source: inout ConfigurationSource) {
        self.init(
            inFlight: source.int("RAHAT_MAX_IN_FLIGHT", default: 64, in: 0...100_000),
            queue: source.int("RAHAT_ADMISSION_QUEUE", default: 256, in: 0...1_000_000),
            maxWait: .milliseconds(source.int("RAHAT_ADMISSION_WAIT_MS", default: 1_000, in: 0...60_000)))
    }
}

/// A counting gate: at most `limit` holders at once, at most `queue` waiting in arrival order,
/// none waiting longer than `maxWait`.
package final class AdmissionGate: Sendable {
    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var holders = 0
        var waiters = Deque<Waiter>()
        var nextID: UInt64 = 0
    }

    private let limits: AdmissionLimits
    private let state = Mutex(State())

    package init(limits: AdmissionLimits) {
        self.limits = limits
    }

    /// Why a request was not let in.
    package enum Refusal: String, Sendable {
        /// As many were already waiting as may.
        case queueFull = "queue_full"
        /// No place came free within the wait.
        case waitedTooLong = "waited"
    }

    /// Takes a place, waiting for one if need be; the refusal when none was had. A caller let in
    /// must ``leave()`` once.
    package func enter() async -> Refusal? {
        enum First {
            case admitted, refused, wait(UInt64)
        }
        let first: First = state.withLock { state in
            if state.holders < limits.inFlight {
                state.holders += 1
                return .admitted
            }
            guard (state.waiters.count < limits.queue) && (limits.maxWait > .zero) else { return .refused }
            state.nextID += 1
            return .wait(state.nextID)
        }
        switch first {
        case .admitted: return nil
        case .refused: return .queueFull
        case .wait(let id):
            let admitted = await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    state.withLock { state in
                        // The place may have come free, or the wait been cancelled, in between.
                        if state.holders < limits.inFlight, state.waiters.isEmpty {
                            state.holders += 1
                            continuation.resume(returning: true)
                        } else if Task.isCancelled {
                            continuation.resume(returning: false)
                        } else {
                            state.waiters.append(Waiter(id: id, continuation: continuation))
                        }
                    }
                    Task { [limits] in
                        try? await Task.sleep(for: limits.maxWait)
                        self.giveUp(id)
                    }
                }
            } onCancel: {
                giveUp(id)
            }
            return admitted ? nil : .waitedTooLong
        }
    }

    /// Gives the place back: to the longest waiter, else free.
    package func leave() {
        let next: CheckedContinuation<Bool, Never>? = state.withLock { state in
            if let waiter = state.waiters.popFirst() { return waiter.continuation }
            state.holders -= 1
            return nil
        }
        next?.resume(returning: true)
    }

    /// Ends waiter `id`'s wait unanswered, unless it already has its place.
    private func giveUp(_ id: UInt64) {
        let waiter: CheckedContinuation<Bool, Never>? = state.withLock { state in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index).continuation
        }
        waiter?.resume(returning: false)
    }

    /// Places held now, for tests.
    package var holders: Int { state.withLock { $0.holders } }
}

/// Lets a request in only when the gateway has room for it (``AdmissionGate``), and refuses it
/// with 503 and `Retry-After` otherwise, before any of its work is done. Listed first among the
/// API's middlewares: a refused request costs no token check, rate-limit count or call.
///
/// A job's event stream is not counted: it holds its connection for up to an hour, and has its
/// own limits (``EventStreamLimits``).
struct AdmissionMiddleware: ServerMiddleware {
    let gate: AdmissionGate

    static let unlimited: Set<String> = ["streamJob"]
    private static let queueFull = GatewayMetrics.admissionRefusals.counter(AdmissionGate.Refusal.queueFull.rawValue)
    private static let waited = GatewayMetrics.admissionRefusals.counter(AdmissionGate.Refusal.waitedTooLong.rawValue)

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        if Self.unlimited.contains(operationID) { return try await next(request, body, metadata) }
        if let refusal = await gate.enter() {
            (refusal == .queueFull ? Self.queueFull : Self.waited).increment()
            let problem = ServiceError(
                .unavailable, reason: "service.overloaded",
                message: "The service has more requests than it can take on now; try again shortly.",
                retryAfterSeconds: 1)
            return ProblemMapping.problem(problem, edge: GatewayRequest.current).openAPIResponse
        }
        defer { gate.leave() }
        return try await next(request, body, metadata)
    }
}
