import GRPCCore
public import ServerKit

/// What can go wrong in project-c2c, in its own terms.
public enum C2CError: Error, Equatable, Sendable {
    case invalidInput([FieldViolation])
    case projectNotFound
    case projectClosed
    /// The funding reference was recorded before with another amount.
    case fundingReferenceConflict(reference: String)

    /// The transport-neutral form the RPC edge sends.
    public var serviceError: ServiceError {
        switch self {
        case .invalidInput(let violations):
            .invalid(violations)
        case .projectNotFound:
            ServiceError(.notFound, reason: "project.not_found", message: "No such project.")
        case .projectClosed:
            ServiceError(
                .failedPrecondition, reason: "project.closed", message: "The project is closed; no value moves in it.")
        case .fundingReferenceConflict(let reference):
            ServiceError(
                .alreadyExists, reason: "funding.reference_conflict",
                message: "The funding '\(reference)' was recorded with another amount; a reference is recorded once.",
                violations: [FieldViolation(field: "reference", reason: "was already recorded with another amount")])
        }
    }
}

extension C2CError: ServiceErrorConvertible {}
