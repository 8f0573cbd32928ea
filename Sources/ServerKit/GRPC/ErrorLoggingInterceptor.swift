package import GRPCCore
package import Logging

/// Logs failures a service did not anticipate and hides their details from the caller.
///
/// Domain and service errors already say what a client may know. Failures that say a dependency
/// is busy or unreachable (`isUnavailable`: no database connection free in time, the database
/// down) are answered as `unavailable`, which callers may retry; anything else (a bug) is logged
/// here with the request id and answered as `internal`.
package struct ErrorLoggingInterceptor: ServerInterceptor {
    private let logger: Logger
    private let isUnavailable: @Sendable (any Error) -> Bool

    package init(logger: Logger, isUnavailable: @escaping @Sendable (any Error) -> Bool = { _ in false }) {
        self.logger = logger
        self.isUnavailable = isUnavailable
    }

    package func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        var response: StreamingServerResponse<Output>
        do {
            response = try await next(request, context)
        } catch {
            throw translate(error, in: context)
        }
        // A streamed response is produced after `next` returns; its failures are answered alike.
        if case .success(var contents) = response.accepted {
            let producer = contents.producer
            contents.producer = { writer in
                do {
                    return try await producer(writer)
                } catch {
                    throw translate(error, in: context)
                }
            }
            response.accepted = .success(contents)
        }
        return response
    }

    /// The error a caller is told: service errors as they are, unavailability as retryable,
    /// anything else logged and hidden.
    private func translate(_ error: any Error, in context: ServerContext) -> RPCError {
        switch error {
        case let error as RPCError:
            return error
        case let error as any RPCErrorConvertible:
            return RPCError(error)
        case is CancellationError:
            // The caller went away (or the server is stopping): nobody to tell, nothing broken.
            return RPCError(code: .cancelled, message: "The call was cancelled.")
        case _ where isUnavailable(error):
            logger.warning(
                "dependency unavailable in RPC",
                metadata: [
                    "rpc": "\(context.descriptor.fullyQualifiedMethod)", "error": "\(String(reflecting: error))",
                ]
            )
            let answer = ServiceError(
                .unavailable, reason: "service.unavailable",
                message: "The service is busy or cannot reach its database; retry shortly.")
            return RPCError(code: .unavailable, message: answer.message, metadata: answer.rpcErrorMetadata)
        default:
            logger.error(
                "unexpected error in RPC",
                metadata: [
                    "rpc": "\(context.descriptor.fullyQualifiedMethod)", "error": "\(String(reflecting: error))",
                ]
            )
            return RPCError(
                code: .internalError,
                message: "An internal error occurred.",
                metadata: ServiceError(.internalError, reason: "internal", message: "").rpcErrorMetadata
            )
        }
    }
}

extension Logger.MetadataProvider {
    /// Adds the current call's `request_id`, and the current span's `trace_id` and `span_id`
    /// when tracing is on, to every log line written while handling it, so a log store and a
    /// trace store join on them.
    package static let rahatRequest = Logger.MetadataProvider {
        var metadata: Logger.Metadata = [:]
        if let requestID = IncomingCall.current.requestID { metadata["request_id"] = .string(requestID) }
        if let ids = TraceContext.currentIDs() {
            metadata["trace_id"] = .string(String(ids.traceID))
            metadata["span_id"] = .string(String(ids.spanID))
        }
        return metadata
    }
}
