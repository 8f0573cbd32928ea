import GRPCCore
package import ServerKit

/// What can go wrong in the ledger, in its own terms.
package enum LedgerError: Error, Equatable, Sendable {
    case invalidInput([FieldViolation])
    case accountNotFound
    case transferNotFound
    /// The idempotency key was recorded with different content; `field` names the order.
    case idempotencyConflict(field: String, key: String)
    /// The debit would take a non-external account below zero.
    case insufficientFunds(field: String, accountID: String, balance: Int64, amount: Int64)
    /// An existing account of the reference holds another asset.
    case assetMismatch(field: String, accountAsset: String)

    /// The transport-neutral form the RPC edge sends.
    package var serviceError: ServiceError {
        switch self {
        case .invalidInput(let violations):
            .invalid(violations)
        case .accountNotFound:
            ServiceError(.notFound, reason: "ledger.account_not_found", message: "No such account.")
        case .transferNotFound:
            ServiceError(.notFound, reason: "ledger.transfer_not_found", message: "No such transfer.")
        case .idempotencyConflict(let field, let key):
            ServiceError(
                .alreadyExists, reason: "ledger.idempotency_conflict",
                message: "The idempotency key '\(key)' was used for a different transfer.",
                violations: [FieldViolation(field: field, reason: "was used for a different transfer")])
        case .insufficientFunds(let field, let account, let balance, let amount):
            ServiceError(
                .failedPrecondition, reason: "ledger.insufficient_funds",
                message: "Account \(account) holds \(balance), less than the \(amount) to be debited; nothing moved.",
                violations: [FieldViolation(field: field, reason: "exceeds the debit account's balance")])
        case .assetMismatch(let field, let asset):
            ServiceError(
                .failedPrecondition, reason: "ledger.asset_mismatch",
                message: "The account holds \(asset); a transfer moves one asset between accounts of that asset.",
                violations: [FieldViolation(field: field, reason: "must be \(asset), the accounts' asset")])
        }
    }
}

extension LedgerError: ServiceErrorConvertible {}
