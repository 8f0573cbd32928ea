public import GRPCCore
public import Logging

/// Logs failures a service did not anticipate and hides their details from the caller.
///
/// Domain and service errors already say what a client may know. Failures that say a dependency
/// is busy or unreachable (`isUnavailable`: no database connection free in time, the database
/// down) are answered as `unavailable`, which callers may retry; anything else (a bug) is logged
/// here with the request id and answered as `internal`.
public struct ErrorLoggingInterceptor: ServerInterceptor {
    private let logger: Logger
    private let isUnavailable: @Sendable (any Error) -> Bool

    public init(logger: Logger, isUnavailable: @escaping @Sendable (any Error) -> Bool = { _ in false }) {
        self.logger = logger
        self.isUnavailable = isUnavailable
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        do {
            return try await next(request, context)
        } catch let error as RPCError {
            throw error
        } catch let error as any RPCErrorConvertible {
            throw RPCError(error)
        } catch  where isUnavailable(error) {
            logger.warning(
                "dependency unavailable in RPC",
                metadata: [
                    "rpc": "\(context.descriptor.fullyQualifiedMethod)", "error": "\(String(reflecting: error))",
                ]
            )
            let answer = ServiceError(
                .unavailable, reason: "service.unavailable",
                message: "The service is busy or cannot reach its database; retry shortly.")
            throw RPCError(code: .unavailable, message: answer.message, metadata: answer.rpcErrorMetadata)
        } catch {
            logger.error(
                "unexpected error in RPC",
                metadata: [
                    "rpc": "\(context.descriptor.fullyQualifiedMethod)", "error": "\(String(reflecting: error))",
                ]
            )
            throw RPCError(
                code: .internalError,
                message: "An internal error occurred.",
                metadata: ServiceError(.internalError, reason: "internal", message: "").rpcErrorMetadata
            )
        }
    }
}

extension Logger.MetadataProvider {
    /// Adds the current call's `request_id` to every log line written while handling it.
    public static let rahatRequest = Logger.MetadataProvider {
        guard let requestID = IncomingCall.current.requestID else { return [:] }
        return ["request_id": .string(requestID)]
    }
}
