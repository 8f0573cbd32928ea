import Foundation
import HTTPTypes
import OpenAPIRuntime
import ServerKit
import Synchronization
import Testing

@testable import Gateway

extension GatewayTests {
    /// The gateway takes on a bounded number of requests at once and refuses the rest quickly.
    @Suite("Admission control")
    struct AdmissionTests {
        static let request = HTTPRequest(method: .get, scheme: "http", authority: "rahat", path: "/v1/projects")

        @Test("places are taken up to the limit, waiters are let in in order, and the rest refused")
        func gate() async throws {
            let gate = AdmissionGate(limits: AdmissionLimits(inFlight: 2, queue: 1, maxWait: .seconds(5)))
            // given two holders
            let first = await gate.enter()
            let second = await gate.enter()
            // when a third waits and a fourth comes
            let waiting = Task { await gate.enter() }
            while gate.holders < 2 { try await Task.sleep(for: .milliseconds(1)) }
            try await Task.sleep(for: .milliseconds(50))
            let fourth = await gate.enter()
            gate.leave()
            let third = await waiting.value
            // then
            #expect(first == nil && second == nil)
            #expect(fourth == .queueFull)
            #expect(third == nil)
            #expect(gate.holders == 2)
            gate.leave()
            gate.leave()
            #expect(gate.holders == 0)
        }

        @Test("a waiter refused after the wait gives up its turn; a cancelled one too")
        func waitRunsOut() async throws {
            let gate = AdmissionGate(limits: AdmissionLimits(inFlight: 1, queue: 4, maxWait: .milliseconds(100)))
            _ = await gate.enter()
            let started = ContinuousClock.now
            let late = await gate.enter()
            let waited = ContinuousClock.now - started
            let cancelled = Task { await gate.enter() }
            try await Task.sleep(for: .milliseconds(20))
            cancelled.cancel()
            let cancelledOutcome = await cancelled.value
            gate.leave()
            let next = await gate.enter()
            #expect(late == .waitedTooLong)
            #expect(waited >= .milliseconds(100) && waited < .seconds(2), "\(waited)")
            #expect(cancelledOutcome == .waitedTooLong)
            #expect(next == nil)
            #expect(gate.holders == 1)
        }

        @Test("over the limit a request is answered 503 service.overloaded with Retry-After before any work")
        func middleware() async throws {
            let middleware = AdmissionMiddleware(
                gate: AdmissionGate(limits: AdmissionLimits(inFlight: 1, queue: 0, maxWait: .seconds(1))))
            let (released, release) = AsyncStream<Void>.makeStream()
            let ran = Counter()
            let handler:
                @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?) = {
                    _, _, _ in
                    ran.increment()
                    for await _ in released { break }
                    return (HTTPResponse(status: .ok), nil)
                }
            // given one request in progress
            let first = Task {
                try await middleware.intercept(
                    Self.request, body: nil, metadata: ServerRequestMetadata(), operationID: "listProjects",
                    next: handler)
            }
            while ran.value < 1 { try await Task.sleep(for: .milliseconds(1)) }
            // when another comes, and a job's event stream
            let (refused, refusedBody) = try await middleware.intercept(
                Self.request, body: nil, metadata: ServerRequestMetadata(), operationID: "listProjects", next: handler)
            let stream = Task {
                try await middleware.intercept(
                    Self.request, body: nil, metadata: ServerRequestMetadata(), operationID: "streamJob", next: handler)
            }
            while ran.value < 2 { try await Task.sleep(for: .milliseconds(1)) }
            release.yield()
            release.yield()
            release.finish()
            let (admitted, _) = try await first.value
            let (streamed, _) = try await stream.value
            let problem = try await String(collecting: try #require(refusedBody), upTo: 65_536)
            // then
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headerFields[.retryAfter] == "1")
            #expect(problem.contains("\"code\":\"service.overloaded\""), "\(problem)")
            #expect(admitted.status == .ok)
            #expect(streamed.status == .ok)
            #expect(ran.value == 2)
        }

        /// How many times the handler ran.
        final class Counter: Sendable {
            private let count = Mutex(0)
            var value: Int { count.withLock { $0 } }
            func increment() { count.withLock { $0 += 1 } }
        }

        @Test("the limits are read from the environment, and 0 turns admission control off")
        func configuration() {
            var source = ConfigurationSource(environment: [
                "RAHAT_MAX_IN_FLIGHT": "8", "RAHAT_ADMISSION_QUEUE": "16", "RAHAT_ADMISSION_WAIT_MS": "250",
            ])
            let limits = GatewayConfiguration(from: &source).admission
            var off = ConfigurationSource(environment: ["RAHAT_MAX_IN_FLIGHT": "0"])
            #expect(limits == AdmissionLimits(inFlight: 8, queue: 16, maxWait: .milliseconds(250)))
            #expect(GatewayConfiguration(from: &off).admission.inFlight == 0)
            #expect(source.problems.isEmpty)
        }
    }
}
