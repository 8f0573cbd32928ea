import HTTPTypes
import OpenAPIRuntime
import ServerKit

/// Bounds each API request, its body and its calls to the services, by one deadline: a request
/// not answered in time is answered 504 (`request.deadline_exceeded`) and its calls in flight
/// are cancelled, which cancels them in the services too.
///
/// The gateway's calls carry no deadline of their own (``RPCDefaults/callerBoundServiceConfig``):
/// grpc-swift would enforce one with a sleeping task on each side of every call, which outlives
/// the call (see ``DeadlineKeeper``). One bound per request, kept by the shared keeper, replaces
/// them. Listed first among the API's middlewares, so that it also bounds the API-key look-up.
struct RequestDeadlineMiddleware: ServerMiddleware {
    /// How long a request may take.
    let timeout: Duration
    let keeper: DeadlineKeeper

    /// Uploads stream their file to a service as it arrives, and a large file over a slow
    /// connection takes long: they have the bound of the import upload call.
    static let uploadTimeout: Duration = .seconds(3600)

    init(timeout: Duration, keeper: DeadlineKeeper = .shared) {
        self.timeout = timeout
        self.keeper = keeper
    }

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let bound = BodyLimitMiddleware.streamedOperations.contains(operationID) ? Self.uploadTimeout : timeout
        // A response body that streams after the handler returns (a job's events, a rejects
        // file) is not bounded here: its own call and the client's connection bound it.
        return try await keeper.run(within: bound) { try await next(request, body, metadata) }
    }
}
