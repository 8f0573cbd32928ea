package import Foundation
package import GRPCCore
import SharedModels

/// One invalid input: which field and why, in words a client developer can act on.
package struct FieldViolation: Codable, Hashable, Sendable {
    package var field: String
    package var reason: String

    package init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }
}

/// The error every service raises past its domain: a category, a stable machine reason, a message,
/// and for bad input the offending fields.
///
/// Services map their domain errors to this type; ``RPCError`` carries it between processes
/// (code, message, and trailers `rahat-reason`, `rahat-field-violations`, `retry-after`), and the
/// gateway turns it into problem+json. That is the only path errors take.
package struct ServiceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The category of failure; each maps to one gRPC status code and one HTTP status.
    package enum Kind: String, Sendable, CaseIterable {
        case invalidArgument, unauthenticated, permissionDenied, notFound, alreadyExists
        case failedPrecondition, resourceExhausted, unavailable, deadlineExceeded, internalError
    }

    package var kind: Kind
    /// A stable dotted identifier clients may switch on, e.g. `auth.invalid_credentials`.
    package var reason: String
    package var message: String
    package var violations: [FieldViolation]
    /// Seconds until a retry may succeed, for throttling.
    package var retryAfterSeconds: Int?

    package init(
        _ kind: Kind,
        reason: String,
        message: String,
        violations: [FieldViolation] = [],
        retryAfterSeconds: Int? = nil
    ) {
        self.kind = kind
        self.reason = reason
        self.message = message
        self.violations = violations
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// Bad input, naming every offending field.
    package static func invalid(_ violations: [FieldViolation], reason: String = "validation_failed") -> ServiceError {
        let fields = violations.map(\.field).joined(separator: ", ")
        return ServiceError(
            .invalidArgument,
            reason: reason,
            message: "The request has invalid fields: \(fields).",
            violations: violations
        )
    }

    /// Bad input in one field.
    package static func invalid(field: String, _ reason: String) -> ServiceError {
        invalid([FieldViolation(field: field, reason: reason)])
    }

    package var description: String { "\(kind.rawValue) \(reason): \(message)" }
}

extension ServiceError.Kind {
    /// The gRPC status code for this category.
    package var rpcCode: RPCError.Code {
        switch self {
        case .invalidArgument: .invalidArgument
        case .unauthenticated: .unauthenticated
        case .permissionDenied: .permissionDenied
        case .notFound: .notFound
        case .alreadyExists: .alreadyExists
        case .failedPrecondition: .failedPrecondition
        case .resourceExhausted: .resourceExhausted
        case .unavailable: .unavailable
        case .deadlineExceeded: .deadlineExceeded
        case .internalError: .internalError
        }
    }

    init(rpcCode: RPCError.Code) {
        switch rpcCode {
        case .invalidArgument, .outOfRange: self = .invalidArgument
        case .unauthenticated: self = .unauthenticated
        case .permissionDenied: self = .permissionDenied
        case .notFound: self = .notFound
        case .alreadyExists, .aborted: self = .alreadyExists
        case .failedPrecondition: self = .failedPrecondition
        case .resourceExhausted: self = .resourceExhausted
        case .unavailable, .cancelled: self = .unavailable
        case .deadlineExceeded: self = .deadlineExceeded
        default: self = .internalError
        }
    }
}

extension UUID {
    /// An id a request names in `field`; `nil`, with the violation recorded, when `text` is not a
    /// UUID. Every service reads request ids this way, so each says the same of a bad one.
    package init?(_ text: String, field: String, into violations: inout [FieldViolation]) {
        guard let id = UUID.parse(text) else {
            violations.append(FieldViolation(field: field, reason: "must be a UUID"))
            return nil
        }
        self = id
    }

    /// An id a request names in `field`, or the invalid-argument error naming it.
    package init(_ text: String, field: String) throws(ServiceError) {
        var violations: [FieldViolation] = []
        guard let id = UUID(text, field: field, into: &violations) else { throw .invalid(violations) }
        self = id
    }
}
