import Foundation
import GRPCCore
import LedgerAPI
import ServerKit
import SharedModels
import SwiftProtobuf

/// `rahat.ledger.v1.LedgerService` over the ledger domain.
struct LedgerRPC: Rahat_Ledger_V1_LedgerService.SimpleServiceProtocol {
    let domain: LedgerDomain

    func recordTransfer(
        request: Rahat_Ledger_V1_TransferRequest, context: ServerContext
    ) async throws -> Rahat_Ledger_V1_TransferResult {
        let outcomes = try await domain.transfer(
            [TransferInput(request)], field: { _ in "" }, by: try await domain.caller())
        guard let outcome = outcomes.first else {
            throw RPCError(code: .internalError, message: "no transfer recorded")
        }
        return Rahat_Ledger_V1_TransferResult(outcome)
    }

    func recordTransferBatch(
        request: Rahat_Ledger_V1_TransferBatchRequest, context: ServerContext
    ) async throws -> Rahat_Ledger_V1_TransferBatchResponse {
        let outcomes = try await domain.transfer(
            request.transfers.map(TransferInput.init), field: { "transfers[\($0)]" }, by: try await domain.caller())
        return .with {
            $0.results = outcomes.map { outcome in
                .with {
                    $0.transferID = outcome.transfer.id.lowercasedString
                    $0.sequence = outcome.transfer.sequence
                    $0.replayed = outcome.replayed
                }
            }
        }
    }

    func getAccount(
        request: Rahat_Ledger_V1_GetAccountRequest, context: ServerContext
    ) async throws -> Rahat_Ledger_V1_Account {
        Rahat_Ledger_V1_Account(
            try await domain.getAccount(
                request.id, asOf: request.hasAsOf ? request.asOf.date : nil, by: try await domain.caller()))
    }

    func findAccount(
        request: Rahat_Ledger_V1_AccountRef, context: ServerContext
    ) async throws -> Rahat_Ledger_V1_Account {
        Rahat_Ledger_V1_Account(try await domain.findAccount(AccountRefInput(request), by: try await domain.caller()))
    }

    func listStatement(
        request: Rahat_Ledger_V1_ListStatementRequest, context: ServerContext
    ) async throws -> Rahat_Ledger_V1_ListStatementResponse {
        let (account, entries, next) = try await domain.statement(
            request.accountID, limit: request.limit == 0 ? 50 : Int(request.limit),
            cursor: request.hasCursor ? request.cursor : nil, by: try await domain.caller())
        return .with {
            $0.account = Rahat_Ledger_V1_Account(account)
            $0.entries = entries.map { entry in
                .with {
                    $0.transfer = Rahat_Ledger_V1_Transfer(entry.transfer)
                    $0.change = entry.change
                    $0.balanceAfter = entry.balanceAfter
                    $0.counterpartyAccountID = entry.counterpartyAccountID.lowercasedString
                }
            }
            if let next { $0.nextCursor = next }
        }
    }

    func getTransfer(
        request: Rahat_Ledger_V1_GetTransferRequest, context: ServerContext
    ) async throws -> Rahat_Ledger_V1_Transfer {
        Rahat_Ledger_V1_Transfer(try await domain.getTransfer(request.id, by: try await domain.caller()))
    }

    func listTransfers(
        request: Rahat_Ledger_V1_ListTransfersRequest, context: ServerContext
    ) async throws -> Rahat_Ledger_V1_ListTransfersResponse {
        var kind: TransferKind?
        if request.hasKind {
            guard let parsed = TransferKind(request.kind) else {
                throw LedgerError.invalidInput([FieldViolation(field: "kind", reason: "is not a transfer kind")])
            }
            kind = parsed
        }
        let (transfers, next) = try await domain.listTransfers(
            limit: request.limit == 0 ? 50 : Int(request.limit), cursor: request.hasCursor ? request.cursor : nil,
            projectID: request.hasProjectID ? request.projectID : nil, kind: kind,
            referencePrefix: request.hasReferencePrefix ? request.referencePrefix : nil,
            by: try await domain.caller())
        return .with {
            $0.transfers = transfers.map(Rahat_Ledger_V1_Transfer.init)
            if let next { $0.nextCursor = next }
        }
    }

    func verifyChain(
        request: Rahat_Ledger_V1_VerifyChainRequest, context: ServerContext
    ) async throws -> Rahat_Ledger_V1_VerifyChainResponse {
        let result = try await domain.verifyChain(by: try await domain.caller())
        return .with {
            $0.ok = result.isIntact
            $0.checked = result.checked
            $0.headHash = result.headHash
            $0.verifiedAt = Google_Protobuf_Timestamp(date: result.verifiedAt)
            if let chainBreak = result.firstBreak {
                $0.firstBreak = .with {
                    $0.sequence = chainBreak.sequence
                    $0.transferID = chainBreak.transferID?.lowercasedString ?? ""
                    $0.reason = chainBreak.reason
                }
            }
        }
    }

    func reconcile(
        request: Rahat_Ledger_V1_ReconcileRequest, context: ServerContext
    ) async throws -> Rahat_Ledger_V1_Reconciliation {
        let books = try await domain.reconcile(projectID: request.projectID, by: try await domain.caller())
        return .with {
            $0.projectID = books.projectID.lowercasedString
            $0.asset = books.asset
            $0.funded = books.funded
            $0.disbursed = books.disbursed
            $0.remaining = books.remaining
            $0.beneficiariesReceived = books.beneficiariesReceived
            $0.beneficiariesRedeemed = books.beneficiariesRedeemed
            $0.beneficiariesBalance = books.beneficiariesBalance
            $0.vendorsRedeemed = books.vendorsRedeemed
            $0.vendorsSettled = books.vendorsSettled
            $0.vendorsPending = books.vendorsPending
            $0.paidOut = books.paidOut
            $0.inClearing = books.inClearing
            $0.balanced = books.isBalanced
            $0.beneficiaryAccounts = Int32(books.beneficiaryAccounts)
            $0.vendorAccounts = Int32(books.vendorAccounts)
            $0.mismatches = books.mismatches.map { mismatch in
                .with {
                    $0.accountID = mismatch.accountID.lowercasedString
                    $0.kind = Rahat_Ledger_V1_AccountKind(mismatch.kind)
                    if let owner = mismatch.ownerID { $0.ownerID = owner.lowercasedString }
                    $0.reason = mismatch.reason
                }
            }
        }
    }
}

// MARK: Mapping

extension AccountKind {
    init?(_ proto: Rahat_Ledger_V1_AccountKind) {
        switch proto {
        case .projectFund: self = .projectFund
        case .beneficiaryWallet: self = .beneficiaryWallet
        case .vendor: self = .vendor
        case .settlementClearing: self = .settlementClearing
        case .externalFunding: self = .externalFunding
        case .externalPayout: self = .externalPayout
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }
}

extension Rahat_Ledger_V1_AccountKind {
    init(_ kind: AccountKind) {
        switch kind {
        case .projectFund: self = .projectFund
        case .beneficiaryWallet: self = .beneficiaryWallet
        case .vendor: self = .vendor
        case .settlementClearing: self = .settlementClearing
        case .externalFunding: self = .externalFunding
        case .externalPayout: self = .externalPayout
        }
    }
}

extension TransferKind {
    init?(_ proto: Rahat_Ledger_V1_TransferKind) {
        switch proto {
        case .fund: self = .fund
        case .allocate: self = .allocate
        case .disburse: self = .disburse
        case .redeem: self = .redeem
        case .settle: self = .settle
        case .reverse: self = .reverse
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }
}

extension Rahat_Ledger_V1_TransferKind {
    init(_ kind: TransferKind) {
        switch kind {
        case .fund: self = .fund
        case .allocate: self = .allocate
        case .disburse: self = .disburse
        case .redeem: self = .redeem
        case .settle: self = .settle
        case .reverse: self = .reverse
        }
    }
}

extension AccountRefInput {
    init(_ proto: Rahat_Ledger_V1_AccountRef) {
        self.init(
            kind: AccountKind(proto.kind), projectID: proto.projectID, ownerID: proto.hasOwnerID ? proto.ownerID : nil)
    }
}

extension TransferInput {
    init(_ proto: Rahat_Ledger_V1_TransferRequest) {
        self.init(
            idempotencyKey: proto.idempotencyKey, debit: AccountRefInput(proto.debit),
            credit: AccountRefInput(proto.credit), amount: proto.amount, asset: proto.asset,
            kind: TransferKind(proto.kind), reference: proto.reference)
    }
}

extension Rahat_Ledger_V1_Account {
    init(_ account: AccountInfo) {
        self = .with {
            $0.id = account.id.lowercasedString
            $0.kind = Rahat_Ledger_V1_AccountKind(account.ref.kind)
            $0.projectID = account.ref.projectID.lowercasedString
            if let owner = account.ref.ownerID { $0.ownerID = owner.lowercasedString }
            $0.asset = account.asset
            $0.balance = account.balance
            $0.mayGoNegative = account.mayGoNegative
            $0.createdAt = .millisecond(of: account.createdAt)
            $0.lastSequence = account.lastSequence
        }
    }
}

extension Rahat_Ledger_V1_Transfer {
    init(_ transfer: TransferRecord) {
        self = .with {
            $0.id = transfer.id.lowercasedString
            $0.sequence = transfer.sequence
            $0.idempotencyKey = transfer.idempotencyKey
            $0.debitAccountID = transfer.debitAccountID.lowercasedString
            $0.creditAccountID = transfer.creditAccountID.lowercasedString
            $0.amount = transfer.amount
            $0.asset = transfer.asset
            $0.kind = Rahat_Ledger_V1_TransferKind(transfer.kind)
            $0.reference = transfer.reference
            $0.projectID = transfer.projectID.lowercasedString
            $0.createdAt = .millisecond(of: transfer.createdAt)
            $0.debitBalanceAfter = transfer.debitBalanceAfter
            $0.creditBalanceAfter = transfer.creditBalanceAfter
            $0.prevHash = transfer.prevHash
            $0.hash = transfer.hash
        }
    }
}

extension Rahat_Ledger_V1_TransferResult {
    init(_ outcome: TransferOutcome) {
        self = .with {
            $0.transfer = Rahat_Ledger_V1_Transfer(outcome.transfer)
            $0.replayed = outcome.replayed
        }
    }
}

extension Google_Protobuf_Timestamp {
    /// Ledger times are whole milliseconds; a date read back from storage is a binary fraction
    /// near one, so it is rounded rather than truncated, and a replay answers the same time.
    static func millisecond(of date: Date) -> Google_Protobuf_Timestamp {
        let milliseconds = TransferChain.milliseconds(date)
        return Google_Protobuf_Timestamp(
            seconds: milliseconds.floorDivided(by: 1000), nanos: Int32(milliseconds.floorModulo(1000) * 1_000_000))
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor < 0) ? quotient - 1 : quotient
    }

    fileprivate func floorModulo(_ divisor: Int64) -> Int64 {
        let remainder = self % divisor
        return remainder < 0 ? remainder + divisor : remainder
    }
}
