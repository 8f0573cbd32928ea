import GRPCCore
public import ServerKit

/// What can go wrong in the core domain, in its own terms.
public enum CoreError: Error, Equatable, Sendable {
    case invalidInput([FieldViolation])
    case permissionDenied(String)
    case projectNotFound
    case beneficiaryNotFound
    case enrolmentNotFound
    case groupNotFound
    case projectClosed
    case duplicate([FieldViolation])
    case invalidTransition(from: String, action: String)

    /// The transport-neutral form the RPC edge sends.
    public var serviceError: ServiceError {
        switch self {
        case .invalidInput(let violations):
            .invalid(violations)
        case .permissionDenied(let message):
            ServiceError(.permissionDenied, reason: "auth.permission_denied", message: message)
        case .projectNotFound:
            ServiceError(.notFound, reason: "project.not_found", message: "No such project.")
        case .beneficiaryNotFound:
            ServiceError(.notFound, reason: "beneficiary.not_found", message: "No such beneficiary.")
        case .groupNotFound:
            ServiceError(.notFound, reason: "group.not_found", message: "No such group.")
        case .enrolmentNotFound:
            ServiceError(
                .notFound, reason: "enrolment.not_found", message: "The beneficiary is not enrolled in this project.")
        case .projectClosed:
            ServiceError(
                .failedPrecondition, reason: "project.closed", message: "A closed project accepts no new enrolments.")
        case .duplicate(let violations):
            ServiceError(
                .alreadyExists,
                reason: "beneficiary.duplicate",
                message: "A beneficiary with the same phone or national ID is already registered.",
                violations: violations
            )
        case .invalidTransition(let from, let action):
            ServiceError(
                .failedPrecondition,
                reason: "project.invalid_transition",
                message: "A \(from) project cannot be \(action)."
            )
        }
    }
}

extension CoreError: ServiceErrorConvertible {}
