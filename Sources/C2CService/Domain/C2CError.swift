import GRPCCore
public import ServerKit

/// What can go wrong in project-c2c, in its own terms.
public enum C2CError: Error, Equatable, Sendable {
    case invalidInput([FieldViolation])
    case projectNotFound
    case projectClosed
    /// The funding reference was recorded before with another amount.
    case fundingReferenceConflict(reference: String)
    case projectNotActive
    case disbursementNotFound
    /// The disbursement is not in a state that allows the action.
    case disbursementState(status: String, action: String)
    case noApprovers
    /// Fewer approvers than required remain once the disbursement's creator is set aside.
    case tooFewApprovers(eligible: Int, required: Int)
    /// The caller is not among the approvers the disbursement was submitted with.
    case notAnApprover
    case ownDisbursement
    /// The project's fund does not cover what would be paid.
    case insufficientFunds(balance: Int64, needed: Int64)
    /// The reference names a disbursement drafted from another request.
    case disbursementReferenceConflict(reference: String)

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
        case .projectNotActive:
            ServiceError(
                .failedPrecondition, reason: "project.not_active",
                message: "The project is not active; activate it before disbursing.")
        case .disbursementNotFound:
            ServiceError(.notFound, reason: "disbursement.not_found", message: "No such disbursement.")
        case .disbursementState(let status, let action):
            ServiceError(
                .failedPrecondition, reason: "disbursement.invalid_state",
                message: "A disbursement that is \(status) cannot be \(action).")
        case .noApprovers:
            ServiceError(
                .failedPrecondition, reason: "disbursement.no_approvers",
                message: "The project has no approvers; set them before submitting.")
        case .tooFewApprovers(let eligible, let required):
            ServiceError(
                .failedPrecondition, reason: "disbursement.too_few_approvers",
                message:
                    "\(required) approvals are required but only \(eligible) approvers other than the creator are named; change the approvers or let another user draft it."
            )
        case .notAnApprover:
            ServiceError(
                .permissionDenied, reason: "disbursement.not_an_approver",
                message: "You are not among this disbursement's approvers.")
        case .ownDisbursement:
            ServiceError(
                .permissionDenied, reason: "disbursement.own",
                message: "The creator of a disbursement cannot approve it.")
        case .disbursementReferenceConflict(let reference):
            ServiceError(
                .alreadyExists, reason: "disbursement.reference_conflict",
                message: "The reference '\(reference)' names a disbursement drafted from another request.",
                violations: [FieldViolation(field: "reference", reason: "was used for another request")])
        case .insufficientFunds(let balance, let needed):
            ServiceError(
                .failedPrecondition, reason: "disbursement.insufficient_funds",
                message: "The project's fund holds \(balance); this needs \(needed). Record funding first.")
        }
    }
}

extension C2CError: ServiceErrorConvertible {}
