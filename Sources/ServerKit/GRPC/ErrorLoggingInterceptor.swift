public import GRPCCore
public import Logging

/// Logs failures a service did not anticipate and hides their details from the caller.
///
/// Domain and service errors already say what a client may know; anything else (a database
/// driver error, a bug) is logged here with the request id and answered as `internal`.
public struct ErrorLoggingInterceptor: ServerInterceptor {
    private let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
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
