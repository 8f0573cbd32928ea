import HTTPTypes
import OpenAPIRuntime
import ServerKit
import Testing

@testable import Gateway

extension GatewayTests {
    /// Each request, its calls to services included, is bounded by one deadline.
    @Suite("Request deadline")
    struct RequestDeadlineTests {
        static let request = HTTPRequest(method: .get, scheme: "http", authority: "rahat", path: "/v1/projects")

        /// A handler that takes `duration` and answers 200.
        static func handler(
            taking duration: Duration
        ) -> @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?) {
            { _, _, _ in
                try await Task.sleep(for: duration)
                return (HTTPResponse(status: .ok), nil)
            }
        }

        @Test("a request not answered in time fails deadlineExceeded (504) and its work is cancelled")
        func overrun() async throws {
            let middleware = RequestDeadlineMiddleware(
                timeout: .milliseconds(100), keeper: DeadlineKeeper(tick: .milliseconds(10)))
            let started = ContinuousClock.now
            let error = await #expect(throws: ServiceError.self) {
                _ = try await middleware.intercept(
                    Self.request, body: nil, metadata: ServerRequestMetadata(), operationID: "listProjects",
                    next: Self.handler(taking: .seconds(30)))
            }
            #expect(error?.kind == .deadlineExceeded)
            #expect(ProblemMapping.status(for: .deadlineExceeded) == .gatewayTimeout)
            #expect(ContinuousClock.now - started < .seconds(5))
        }

        @Test("a request answered in time is untouched; an upload has the longer upload bound")
        func inTimeAndUploads() async throws {
            let middleware = RequestDeadlineMiddleware(
                timeout: .milliseconds(100), keeper: DeadlineKeeper(tick: .milliseconds(10)))
            let quick = try await middleware.intercept(
                Self.request, body: nil, metadata: ServerRequestMetadata(), operationID: "listProjects",
                next: Self.handler(taking: .milliseconds(1)))
            #expect(quick.0.status == .ok)
            let upload = try await middleware.intercept(
                Self.request, body: nil, metadata: ServerRequestMetadata(), operationID: "createImport",
                next: Self.handler(taking: .milliseconds(300)))
            #expect(upload.0.status == .ok)
            #expect(
                RequestDeadlineMiddleware.uploadTimeout >= RPCDefaults.streamingTimeouts.map(\.timeout).max() ?? .zero)
        }
    }
}
