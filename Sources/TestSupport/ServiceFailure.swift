import GRPCCore
package import ServerKit

/// Runs `call` and returns the service error it failed with: `nil` when it succeeded, or failed
/// with anything but a gRPC error (which the test then reports as a mismatch).
package func serviceFailure(_ call: () async throws -> some Sendable) async -> ServiceError? {
    do {
        _ = try await call()
        return nil
    } catch let error as RPCError {
        return ServiceError(error)
    } catch {
        return nil
    }
}
