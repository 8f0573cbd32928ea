package import Foundation
import SharedModels

/// What an account is for (docs/domain.md, "ledger"). Every account belongs to one project.
enum AccountKind: String, Sendable, CaseIterable {
    case projectFund = "project_fund"
    case beneficiaryWallet = "beneficiary_wallet"
    case vendor
    case settlementClearing = "settlement_clearing"
    case externalFunding = "external_funding"
    case externalPayout = "external_payout"

    /// Wallets and vendor accounts are one per owner; the rest one per project.
    var hasOwner: Bool { self == .beneficiaryWallet || self == .vendor }

    /// External accounts mirror money outside the ledger, so they run below zero as value enters.
    var mayGoNegative: Bool { self == .externalFunding || self == .externalPayout }
}

/// Names an account by what it is for; the ledger opens it on first use.
struct AccountRef: Hashable, Sendable {
    var kind: AccountKind
    var projectID: UUID
    var ownerID: UUID?

    /// The account's unique key: a transfer names accounts by it, and looks them up by it.
    var key: String {
        var key = "\(kind.rawValue):\(projectID.lowercasedString)"
        if let ownerID { key += ":\(ownerID.lowercasedString)" }
        return key
    }
}

/// An account with its balance.
struct AccountInfo: Sendable, Equatable {
    var id: UUID
    var ref: AccountRef
    var asset: String
    var balance: Int64
    var createdAt: Date
    /// The chain position of the last transfer in `balance`.
    var lastSequence: Int64

    var mayGoNegative: Bool { ref.kind.mayGoNegative }
}

/// Why value moved (docs/domain.md); each kind moves value along fixed paths between account kinds.
enum TransferKind: String, Sendable, CaseIterable {
    case fund, allocate, disburse, redeem, settle, reverse

    /// The account-kind pairs (debit → credit) each kind but `reverse` moves value along.
    private static let forward: [TransferKind: [Path]] = [
        .fund: [Path(.externalFunding, .projectFund)],
        .allocate: [Path(.projectFund, .beneficiaryWallet)],
        .disburse: [Path(.projectFund, .beneficiaryWallet)],
        .redeem: [Path(.beneficiaryWallet, .vendor)],
        .settle: [Path(.vendor, .settlementClearing), Path(.settlementClearing, .externalPayout)],
    ]

    /// `reverse` goes back along any path of the others.
    private static let backward = Set(forward.values.joined().map { Path($0.credit, $0.debit) })

    /// A debit account kind and a credit account kind.
    struct Path: Hashable, Sendable {
        var debit: AccountKind
        var credit: AccountKind
        init(_ debit: AccountKind, _ credit: AccountKind) {
            self.debit = debit
            self.credit = credit
        }
    }

    func allows(from debit: AccountKind, to credit: AccountKind) -> Bool {
        let path = Path(debit, credit)
        return self == .reverse ? Self.backward.contains(path) : Self.forward[self, default: []].contains(path)
    }
}

/// A transfer a caller asks for.
struct TransferOrder: Sendable, Equatable {
    var idempotencyKey: String
    var debit: AccountRef
    var credit: AccountRef
    var amount: Int64
    var asset: String
    var kind: TransferKind
    var reference: String
}

/// A recorded transfer: a link of the hash chain.
struct TransferRecord: Sendable, Equatable {
    var id: UUID
    var sequence: Int64
    var idempotencyKey: String
    var debitAccountID: UUID
    var creditAccountID: UUID
    var amount: Int64
    var asset: String
    var kind: TransferKind
    var reference: String
    var projectID: UUID
    var createdAt: Date
    var debitBalanceAfter: Int64
    var creditBalanceAfter: Int64
    var prevHash: String
    var hash: String
}

/// The answer to one order: the transfer, and whether it was recorded earlier under the same key.
struct TransferOutcome: Sendable, Equatable {
    var transfer: TransferRecord
    var replayed: Bool
}

/// One line of an account statement.
struct StatementEntry: Sendable, Equatable {
    var transfer: TransferRecord
    var change: Int64
    var balanceAfter: Int64
    var counterpartyAccountID: UUID
}

/// Where the chain stops matching its rows.
package struct ChainBreak: Sendable, Equatable {
    package var sequence: Int64
    /// `nil` when the row is missing.
    package var transferID: UUID?
    package var reason: String
}

/// The result of walking the chain.
package struct ChainVerification: Sendable, Equatable {
    package var checked: Int64
    package var firstBreak: ChainBreak?
    package var headHash: String
    /// When the walk began: it read the chain as it stood then.
    package var verifiedAt: Date

    package var isIntact: Bool { firstBreak == nil }
}

/// An account whose books do not add up.
struct AccountMismatch: Sendable, Equatable {
    var accountID: UUID
    var kind: AccountKind
    var ownerID: UUID?
    var reason: String
}

/// A project's books (docs/domain.md, flow 7).
struct Reconciliation: Sendable, Equatable {
    var projectID: UUID
    var asset: String
    var funded: Int64 = 0
    var disbursed: Int64 = 0
    var remaining: Int64 = 0
    var beneficiariesReceived: Int64 = 0
    var beneficiariesRedeemed: Int64 = 0
    var beneficiariesBalance: Int64 = 0
    var vendorsRedeemed: Int64 = 0
    var vendorsSettled: Int64 = 0
    var vendorsPending: Int64 = 0
    var paidOut: Int64 = 0
    var inClearing: Int64 = 0
    var beneficiaryAccounts = 0
    var vendorAccounts = 0
    var mismatches: [AccountMismatch] = []

    /// Every identity of flow 7 holds, for the totals and for each account.
    var isBalanced: Bool {
        mismatches.isEmpty && funded == disbursed + remaining
            && beneficiariesReceived == beneficiariesRedeemed + beneficiariesBalance
            && vendorsRedeemed == vendorsSettled + vendorsPending && vendorsSettled == paidOut + inClearing
    }
}
