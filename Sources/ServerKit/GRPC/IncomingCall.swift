import Foundation
package import GRPCCore

/// What a service needs to know about the call it is handling, beyond the message itself.
///
/// Set for the duration of each RPC by ``IncomingCallInterceptor`` so that handlers written
/// against the generated "simple" protocols can still see the caller's credentials.
package struct IncomingCall: Sendable {
    /// The caller's `authorization` metadata, e.g. `Bearer <jwt>`.
    package var authorization: String?
    /// The end user's address as seen by the public gateway, for throttling and audit.
    package var clientIP: String?
    /// The request id the gateway assigned; propagated into logs.
    package var requestID: String?
    /// The end user wrote moments ago: reads that could use a replica go to the primary, so
    /// they see that write. Asked by the gateway; believed from anyone, since all it costs is
    /// the primary's time.
    package var readsPrimary: Bool

    package init(
        authorization: String? = nil, clientIP: String? = nil, requestID: String? = nil, readsPrimary: Bool = false
    ) {
        self.authorization = authorization
        self.clientIP = clientIP
        self.requestID = requestID
        self.readsPrimary = readsPrimary
    }

    /// The call being handled by the current task, or an empty description outside an RPC.
    @TaskLocal package static var current = IncomingCall()

    /// Metadata keys shared by clients and servers.
    package enum Key {
        package static let authorization = "authorization"
        package static let clientIP = "x-rahat-client-ip"
        package static let requestID = "x-request-id"
        package static let readsPrimary = "x-rahat-read-primary"
        /// Set by the internal gateway: the common name of the certificate the caller presented.
        package static let caller = "x-rahat-caller"
    }

    /// Metadata to attach to an outgoing call that carries this description on.
    package var metadata: Metadata {
        var metadata: Metadata = [:]
        if let authorization { metadata.addString(authorization, forKey: Key.authorization) }
        if let clientIP { metadata.addString(clientIP, forKey: Key.clientIP) }
        if let requestID { metadata.addString(requestID, forKey: Key.requestID) }
        if readsPrimary { metadata.addString("1", forKey: Key.readsPrimary) }
        return metadata
    }
}

/// Copies the caller's metadata into ``IncomingCall/current`` for the handler.
package struct IncomingCallInterceptor: ServerInterceptor {
    private let trustsClientAddress: @Sendable (ServerContext, Metadata) -> Bool

    /// `trustsClientAddress` says whether a call's `x-rahat-client-ip` is believed: over mutual
    /// TLS only the gateway's is (``InternalTLS/isGateway(_:)``). Any other caller's calls are
    /// charged to its own network address, so it cannot dodge per-address limits by naming others.
    package init(trustsClientAddress: @escaping @Sendable (ServerContext, Metadata) -> Bool = { _, _ in true }) {
        self.trustsClientAddress = trustsClientAddress
    }

    /// The host part of a gRPC peer description (`ipv4:10.0.0.5:51234`, `ipv6:[::1]:51234`).
    package static func host(ofPeer peer: String) -> String? {
        for prefix in ["ipv4:", "ipv6:"] where peer.hasPrefix(prefix) {
            var address = peer.dropFirst(prefix.count)
            if let colon = address.lastIndex(of: ":") { address = address[..<colon] }
            return String(address.trimmingCharacters(in: CharacterSet(charactersIn: "[]")))
        }
        return nil
    }

    package func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        func first(_ key: String) -> String? {
            request.metadata[stringValues: key].first(where: { _ in true })
        }
        let call = IncomingCall(
            authorization: first(IncomingCall.Key.authorization),
            clientIP: trustsClientAddress(context, request.metadata)
                ? first(IncomingCall.Key.clientIP) : Self.host(ofPeer: context.remotePeer),
            requestID: first(IncomingCall.Key.requestID),
            readsPrimary: first(IncomingCall.Key.readsPrimary) == "1"
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
