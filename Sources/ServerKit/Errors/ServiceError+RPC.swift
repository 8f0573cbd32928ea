import Foundation
package import GRPCCore

/// Trailer keys that carry a ``ServiceError`` across a gRPC call.
package enum ServiceErrorMetadata {
    static let reason = "rahat-reason"
    static let violations = "rahat-field-violations"
    static let retryAfter = "retry-after"
}

extension ServiceError: RPCErrorConvertible {
    package var rpcErrorCode: RPCError.Code { kind.rpcCode }
    package var rpcErrorMessage: String { message }
    package var rpcErrorMetadata: Metadata {
        var metadata: Metadata = [:]
        metadata.addString(reason, forKey: ServiceErrorMetadata.reason)
        if !violations.isEmpty, let json = try? JSONEncoder().encode(violations) {
            metadata.addString(String(decoding: json, as: UTF8.self), forKey: ServiceErrorMetadata.violations)
        }
        if let retryAfterSeconds {
            metadata.addString(String(retryAfterSeconds), forKey: ServiceErrorMetadata.retryAfter)
        }
        return metadata
    }
}

extension ServiceError {
    /// Recovers the service error a peer raised; errors from the transport itself (no reason
    /// trailer) become `unavailable`/`deadlineExceeded`/`internalError` with a generic reason.
    package init(_ error: RPCError) {
        let kind = Kind(rpcCode: error.code)
        let reason = error.metadata[stringValues: ServiceErrorMetadata.reason].first(where: { _ in true })
        var violations: [FieldViolation] = []
        if let json = error.metadata[stringValues: ServiceErrorMetadata.violations].first(where: { _ in true }) {
            violations = (try? JSONDecoder().decode([FieldViolation].self, from: Data(json.utf8))) ?? []
        }
        let retryAfter = error.metadata[stringValues: ServiceErrorMetadata.retryAfter]
            .first(where: { _ in true }).flatMap { Int($0) }
        if let reason {
            self.init(
                kind, reason: reason, message: error.message, violations: violations, retryAfterSeconds: retryAfter)
            return
        }
        switch kind {
        case .unavailable:
            self.init(.unavailable, reason: "upstream.unavailable", message: "A backing service is unavailable.")
        case .deadlineExceeded:
            self.init(
                .deadlineExceeded, reason: "upstream.timeout", message: "A backing service did not answer in time.")
        default:
            self.init(
                kind,
                reason: kind == .internalError ? "internal" : "upstream.\(kind.rawValue)",
                message: kind == .internalError ? "An internal error occurred." : error.message
            )
        }
    }
}
