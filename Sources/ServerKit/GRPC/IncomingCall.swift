public import GRPCCore

/// What a service needs to know about the call it is handling, beyond the message itself.
///
/// Set for the duration of each RPC by ``IncomingCallInterceptor`` so that handlers written
/// against the generated "simple" protocols can still see the caller's credentials.
public struct IncomingCall: Sendable {
    /// The caller's `authorization` metadata, e.g. `Bearer <jwt>`.
    public var authorization: String?
    /// The end user's address as seen by the public gateway, for throttling and audit.
    public var clientIP: String?
    /// The request id the gateway assigned; propagated into logs.
    public var requestID: String?

    public init(authorization: String? = nil, clientIP: String? = nil, requestID: String? = nil) {
        self.authorization = authorization
        self.clientIP = clientIP
        self.requestID = requestID
    }

    /// The call being handled by the current task, or an empty description outside an RPC.
    @TaskLocal public static var current = IncomingCall()

    /// Metadata keys shared by clients and servers.
    public enum Key {
        public static let authorization = "authorization"
        public static let clientIP = "x-rahat-client-ip"
        public static let requestID = "x-request-id"
    }

    /// Metadata to attach to an outgoing call that carries this description on.
    public var metadata: Metadata {
        var metadata: Metadata = [:]
        if let authorization { metadata.addString(authorization, forKey: Key.authorization) }
        if let clientIP { metadata.addString(clientIP, forKey: Key.clientIP) }
        if let requestID { metadata.addString(requestID, forKey: Key.requestID) }
        return metadata
    }
}

/// Copies the caller's metadata into ``IncomingCall/current`` for the handler.
public struct IncomingCallInterceptor: ServerInterceptor {
    public init() {}

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        func first(_ key: String) -> String? {
            request.metadata[stringValues: key].first(where: { _ in true })
        }
        let call = IncomingCall(
            authorization: first(IncomingCall.Key.authorization),
            clientIP: first(IncomingCall.Key.clientIP),
            requestID: first(IncomingCall.Key.requestID)
        )
        var response = try await IncomingCall.$current.withValue(call) {
            try await next(request, context)
        }
        // A streamed response is produced after `next` returns (a simple service's streaming
        // method runs then): its producer needs the call as well.
        if case .success(var contents) = response.accepted {
            let producer = contents.producer
            contents.producer = { writer in
                try await IncomingCall.$current.withValue(call) { try await producer(writer) }
            }
            response.accepted = .success(contents)
        }
        return response
    }
}
