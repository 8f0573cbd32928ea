import GRPCCore
package import ServerKit

/// What can go wrong in the core domain, in its own terms.
package enum CoreError: Error, Equatable, Sendable {
    case invalidInput([FieldViolation])
    case permissionDenied(String)
    case projectNotFound
    case beneficiaryNotFound
    case enrolmentNotFound
    case groupNotFound
    case vendorNotFound
    case vendorExists
    case vendorInactive
    case vendorNotAssigned
    case vendorLoginUnavailable
    case importNotFound
    case importInProgress(String)
    case importTooLarge(limit: Int)
    /// The caller has this many imports unfinished, the most one user may.
    case tooManyImports(limit: Int)
    /// All callers together have this many imports unfinished, the most the service holds.
    case importQueueFull(limit: Int)
    case projectClosed
    case duplicate([FieldViolation])
    case invalidTransition(from: String, action: String)
    case verificationNotFound
    /// No payout account change waits for a decision on this vendor.
    case payoutChangeNotFound
    /// The requester of a payout change cannot approve it.
    case ownPayoutChange
    /// A decision needs the beneficiary's latest check to be `needs_review`; it is this instead.
    case verificationNotInReview(String)

    /// The transport-neutral form the RPC edge sends.
    package var serviceError: ServiceError {
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
        case .vendorNotFound:
            ServiceError(.notFound, reason: "vendor.not_found", message: "No such vendor.")
        case .vendorExists:
            ServiceError(
                .alreadyExists, reason: "vendor.exists", message: "This user is already registered as a vendor.",
                violations: [FieldViolation(field: "userId", reason: "is already a vendor")])
        case .vendorInactive:
            ServiceError(
                .failedPrecondition, reason: "vendor.inactive", message: "A deactivated vendor takes on no new project."
            )
        case .vendorNotAssigned:
            ServiceError(
                .notFound, reason: "vendor.not_assigned", message: "The vendor is not assigned to this project.")
        case .vendorLoginUnavailable:
            ServiceError(
                .unavailable, reason: "vendor.login_unavailable", message: "The vendor's login could not be created.")
        case .importNotFound:
            ServiceError(.notFound, reason: "import.not_found", message: "No such import.")
        case .importTooLarge(let limit):
            ServiceError(
                .invalidArgument, reason: "import.too_large",
                message: "The file is larger than this server accepts; split it into several imports.",
                violations: [FieldViolation(field: "file", reason: "must be at most \(limit) bytes")])
        case .tooManyImports(let limit):
            ServiceError(
                .resourceExhausted, reason: "import.too_many_unfinished",
                message:
                    "You have \(limit) imports uploading, queued or running, the most one user may; start this one when one of them ends.",
                retryAfterSeconds: 60)
        case .importQueueFull(let limit):
            ServiceError(
                .resourceExhausted, reason: "import.queue_full",
                message:
                    "\(limit) imports are uploading, queued or running, the most this server holds at once; try again later.",
                retryAfterSeconds: 60)
        case .importInProgress(let id):
            ServiceError(
                .alreadyExists, reason: "import.in_progress",
                message: "The same file is already being imported (import \(id)); wait for it to finish.")
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
                message: "A beneficiary with the same phone, national ID or wallet address is already registered.",
                violations: violations
            )
        case .verificationNotFound:
            ServiceError(.notFound, reason: "verification.not_found", message: "No such verification.")
        case .payoutChangeNotFound:
            ServiceError(
                .notFound, reason: "payout_change.not_found",
                message: "No change of this vendor's payout account waits for a decision.")
        case .ownPayoutChange:
            ServiceError(
                .permissionDenied, reason: "payout_change.own",
                message: "A payout account change needs a second person: whoever asked for it cannot approve it.")
        case .verificationNotInReview(let status):
            ServiceError(
                .failedPrecondition, reason: "verification.not_in_review",
                message: "The beneficiary's latest check does not await review (it is \(status)).")
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
