package import ServerKit

extension AccessTokenVerifier {
    /// The caller of the RPC being handled, from its `authorization: Bearer …` metadata.
    package func verifyCurrentCaller() async throws(ServiceError) -> Principal {
        let missing = ServiceError(
            .unauthenticated, reason: "auth.missing_credentials", message: "Credentials are required.")
        guard let authorization = IncomingCall.current.authorization else { throw missing }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw missing }
        return try await verify(String(parts[1]))
    }
}
