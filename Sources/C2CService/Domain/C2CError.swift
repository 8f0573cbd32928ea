package import Foundation
import GRPCCore
package import ServerKit

/// What can go wrong in project-c2c, in its own terms.
package enum C2CError: Error, Equatable, Sendable {
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
    /// Decided with an API key or a service's credentials: approvals are people's.
    case decisionNeedsPerson
    /// The project's fund does not cover what would be paid.
    case insufficientFunds(balance: Int64, needed: Int64)
    /// The reference names a disbursement drafted from another request.
    case disbursementReferenceConflict(reference: String)
    case vendorNotFound
    case vendorInactive
    /// The vendor serves none of the projects the value could come from.
    case vendorNotAssigned
    case beneficiaryNotFound
    /// More than one live beneficiary has the phone given.
    case beneficiaryPhoneShared
    case beneficiaryWithoutPhone
    /// Not verified, or verification reopened (a changed phone): nothing is redeemed meanwhile.
    case beneficiaryNotVerified
    /// The phone changed within the cooling-off period; redemption resumes after `until`.
    case beneficiaryPhoneChanged(until: Date)
    /// The vendor spent its budget of wrong codes across beneficiaries.
    case vendorCodesThrottled(retryAfterSeconds: Int)
    /// The beneficiary holds less than asked (`balance` when known).
    case insufficientBalance(balance: Int64?, needed: Int64)
    /// The beneficiary was sent as many codes as the window allows.
    case codesThrottled(retryAfterSeconds: Int)
    /// The SMS gateway did not take the code.
    case codeNotSent
    case redemptionNotFound
    case redemptionState(status: String)
    case redemptionExpired
    case wrongCode(attemptsRemaining: Int)
    /// The ledger refused the transfer for a reason other than the balance.
    case redemptionRefused(reason: String)
    /// Another request for this vendor and beneficiary, for another amount, was made at the same time.
    case redemptionInProgress
    case vendorWithoutPayoutAccount(name: String)
    /// No confirmed redemption of the vendors asked for is waiting for a settlement.
    case nothingToSettle
    case settlementNotFound
    case settlementScheduleNotFound
    case settlementState(status: String, action: String)
    /// The run's job has not written the payout file yet, or paid no one.
    case payoutFileNotReady

    /// The transport-neutral form the RPC edge sends.
    package var serviceError: ServiceError {
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
        case .decisionNeedsPerson:
            ServiceError(
                .permissionDenied, reason: "disbursement.person_required",
                message:
                    "Approving or rejecting a disbursement needs a person signed in with a password, not an API key."
            )
        case .disbursementReferenceConflict(let reference):
            ServiceError(
                .alreadyExists, reason: "disbursement.reference_conflict",
                message: "The reference '\(reference)' names a disbursement drafted from another request.",
                violations: [FieldViolation(field: "reference", reason: "was used for another request")])
        case .vendorNotFound:
            ServiceError(.notFound, reason: "vendor.not_found", message: "No such vendor.")
        case .vendorInactive:
            ServiceError(
                .failedPrecondition, reason: "vendor.inactive",
                message: "The vendor is deactivated; it redeems nothing.")
        case .vendorNotAssigned:
            ServiceError(
                .failedPrecondition, reason: "vendor.not_assigned",
                message: "The vendor is not assigned to the project; assign it before it redeems there.")
        case .beneficiaryNotFound:
            ServiceError(.notFound, reason: "beneficiary.not_found", message: "No such beneficiary.")
        case .beneficiaryPhoneShared:
            ServiceError(
                .failedPrecondition, reason: "beneficiary.phone_shared",
                message: "More than one beneficiary has this phone; identify the beneficiary by id.")
        case .beneficiaryWithoutPhone:
            ServiceError(
                .failedPrecondition, reason: "beneficiary.no_phone",
                message: "The beneficiary has no phone on record to send a code to.")
        case .beneficiaryNotVerified:
            ServiceError(
                .failedPrecondition, reason: "beneficiary.not_verified",
                message:
                    "The beneficiary's verification is not complete (it reopens when their phone changes); nothing can be redeemed until it is."
            )
        case .beneficiaryPhoneChanged(let until):
            ServiceError(
                .failedPrecondition, reason: "beneficiary.phone_recently_changed",
                message:
                    "The beneficiary's phone changed recently; to give its old owner time to object, nothing can be redeemed until \(until.formatted(.iso8601))."
            )
        case .vendorCodesThrottled(let seconds):
            ServiceError(
                .resourceExhausted, reason: "redemption.vendor_throttled",
                message:
                    "Too many wrong codes were entered at this vendor lately; confirmations are paused for \(seconds) s and the agency has been alerted.",
                retryAfterSeconds: seconds)
        case .insufficientBalance(let balance, let needed):
            ServiceError(
                .failedPrecondition, reason: "redemption.insufficient_balance",
                message: balance.map { "The beneficiary holds \($0); this needs \(needed)." }
                    ?? "The beneficiary does not hold \(needed).")
        case .codesThrottled(let seconds):
            ServiceError(
                .resourceExhausted, reason: "redemption.throttled",
                message:
                    "This beneficiary was sent \(C2CDomain.codesPerWindow) codes in the last 15 minutes; try again later.",
                retryAfterSeconds: seconds)
        case .codeNotSent:
            ServiceError(
                .unavailable, reason: "redemption.sms_failed",
                message: "The code could not be sent by SMS; the request was not kept. Try again.")
        case .redemptionNotFound:
            ServiceError(.notFound, reason: "redemption.not_found", message: "No such redemption.")
        case .redemptionState(let status):
            ServiceError(
                .failedPrecondition, reason: "redemption.invalid_state",
                message: "The redemption is \(status); it cannot be confirmed.")
        case .redemptionExpired:
            ServiceError(
                .failedPrecondition, reason: "redemption.expired",
                message: "The code has expired; request a new one.")
        case .wrongCode(let remaining):
            ServiceError(
                .invalidArgument, reason: "redemption.wrong_code",
                message: remaining > 0
                    ? "That is not the code sent; \(remaining) attempt\(remaining == 1 ? "" : "s") remain."
                    : "That is not the code sent, for the last time: the redemption has failed.",
                violations: [FieldViolation(field: "code", reason: "is not the code sent")])
        case .redemptionRefused(let reason):
            ServiceError(
                .failedPrecondition, reason: "redemption.refused", message: "The ledger refused it: \(reason).")
        case .redemptionInProgress:
            ServiceError(
                .alreadyExists, reason: "redemption.in_progress",
                message:
                    "Another redemption for this beneficiary at this vendor was requested at the same moment; try again."
            )
        case .vendorWithoutPayoutAccount(let name):
            ServiceError(
                .failedPrecondition, reason: "vendor.no_payout_account",
                message: "The vendor '\(name)' has no payout account; add one before settling.")
        case .nothingToSettle:
            ServiceError(
                .failedPrecondition, reason: "settlement.nothing_to_settle",
                message: "No confirmed redemption of these vendors is waiting to be settled.")
        case .settlementScheduleNotFound:
            ServiceError(
                .notFound, reason: "settlement_schedule.not_found",
                message: "The project has no settlement schedule; its vendors are settled on demand.")
        case .settlementNotFound:
            ServiceError(.notFound, reason: "settlement.not_found", message: "No such settlement.")
        case .settlementState(let status, let action):
            ServiceError(
                .failedPrecondition, reason: "settlement.invalid_state",
                message: "A settlement that is \(status) cannot be marked \(action).")
        case .payoutFileNotReady:
            ServiceError(
                .failedPrecondition, reason: "settlement.file_not_ready",
                message: "The run's payout file is not written yet (its job is still running), or the run pays no one.")
        case .insufficientFunds(let balance, let needed):
            ServiceError(
                .failedPrecondition, reason: "disbursement.insufficient_funds",
                message: "The project's fund holds \(balance); this needs \(needed). Record funding first.")
        }
    }
}

extension C2CError: ServiceErrorConvertible {}
