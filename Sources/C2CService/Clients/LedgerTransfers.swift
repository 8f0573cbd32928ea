import Foundation
import GRPCCore
import LedgerAPI
import ServerKit
import SharedModels
import SwiftProtobuf

/// A ledger account as project-c2c names it: the kind, in one project, of one owner where the
/// kind has owners.
enum LedgerAccount: Sendable, Equatable {
    /// Where donor funding comes from.
    case externalFunding(project: UUID)
    /// What a project holds to disburse.
    case projectFund(project: UUID)
    /// What one beneficiary holds in one project.
    case beneficiaryWallet(project: UUID, beneficiary: UUID)
    /// What one vendor has redeemed in one project and not yet been paid.
    case vendor(project: UUID, vendor: UUID)
    /// Value on its way from vendors to the bank in a settlement.
    case settlementClearing(project: UUID)
    /// Where vendor payouts go.
    case externalPayout(project: UUID)

    var reference: Rahat_Ledger_V1_AccountRef {
        .with {
            switch self {
            case .externalFunding(let project):
                $0.kind = .externalFunding
                $0.projectID = project.lowercasedString
            case .projectFund(let project):
                $0.kind = .projectFund
                $0.projectID = project.lowercasedString
            case .beneficiaryWallet(let project, let beneficiary):
                $0.kind = .beneficiaryWallet
                $0.projectID = project.lowercasedString
                $0.ownerID = beneficiary.lowercasedString
            case .vendor(let project, let vendor):
                $0.kind = .vendor
                $0.projectID = project.lowercasedString
                $0.ownerID = vendor.lowercasedString
            case .settlementClearing(let project):
                $0.kind = .settlementClearing
                $0.projectID = project.lowercasedString
            case .externalPayout(let project):
                $0.kind = .externalPayout
                $0.projectID = project.lowercasedString
            }
        }
    }
}

/// A move of value project-c2c asks the ledger for. The idempotency key makes asking twice
/// (after an answer that never arrived) record it once.
struct LedgerTransfer: Sendable, Equatable {
    /// What the move is, in the ledger's words.
    enum Kind: Sendable, Equatable {
        case fund, allocate, disburse, redeem, settle, reverse
    }

    var idempotencyKey: String
    var debit: LedgerAccount
    var credit: LedgerAccount
    /// Minor units, more than zero.
    var amount: Int64
    var asset: String
    var kind: Kind
    /// What the move belongs to (`redemption:<id>`), for finding it again.
    var reference: String

    var request: Rahat_Ledger_V1_TransferRequest {
        .with {
            $0.idempotencyKey = idempotencyKey
            $0.debit = debit.reference
            $0.credit = credit.reference
            $0.amount = amount
            $0.asset = asset
            $0.kind =
                switch kind {
                case .fund: .fund
                case .allocate: .allocate
                case .disburse: .disburse
                case .redeem: .redeem
                case .settle: .settle
                case .reverse: .reverse
                }
            $0.reference = reference
        }
    }
}

/// What the ledger answered a transfer: the transfer's id, and whether it was recorded before
/// under the same key (nothing moved now).
struct RecordedTransfer: Sendable, Equatable {
    var id: UUID
    var replayed: Bool
}

/// The ledger refused a transfer and moved nothing: asking again changes nothing until someone
/// acts (funds the project, fixes the request).
struct LedgerRefusal: Error, ServiceErrorConvertible, CustomStringConvertible {
    /// Why, broadly.
    enum Kind: Sendable, Equatable {
        /// The request breaks the ledger's rules (an asset or account that does not fit).
        case invalid
        /// The accounts do not allow it now (too little in the debited one).
        case precondition
        /// The idempotency key was used before for a different transfer.
        case conflict
    }

    var kind: Kind
    /// The ledger's answer; a refusal no rule here handles reaches the caller as it.
    var serviceError: ServiceError
    /// The ledger's stable reason (`ledger.insufficient_funds`).
    var reason: String { serviceError.reason }
    var message: String { serviceError.message }

    /// The debited account holds less than the transfer.
    var isInsufficientFunds: Bool { reason == "ledger.insufficient_funds" }

    var description: String { "\(reason): \(message)" }

    /// The refusal `error` is, or `nil` when it is something else (the ledger unreachable, no
    /// answer in time): then the move may or may not have committed.
    init?(_ error: RPCError) {
        switch error.code {
        case .invalidArgument: kind = .invalid
        case .failedPrecondition: kind = .precondition
        case .alreadyExists: kind = .conflict
        default: return nil
        }
        serviceError = ServiceError(error)
    }
}
