import Foundation
import LedgerAPI
import OpenAPIRuntime
import ServerKit
import SwiftProtobuf

extension APIHandler {
    func findLedgerAccount(
        _ input: Operations.FindLedgerAccount.Input
    ) async throws -> Operations.FindLedgerAccount.Output {
        let query = input.query
        let account = try await ledger.ledger.findAccount(
            .with {
                $0.projectID = query.projectId
                $0.kind = Rahat_Ledger_V1_AccountKind(query.kind)
                if let owner = query.ownerId { $0.ownerID = owner }
            },
            metadata: asCaller)
        return .ok(.init(body: .json(try .init(account))))
    }

    func getLedgerAccount(_ input: Operations.GetLedgerAccount.Input) async throws -> Operations.GetLedgerAccount.Output
    {
        let account = try await ledger.ledger.getAccount(
            .with {
                $0.id = input.path.id
                if let asOf = input.query.asOf { $0.asOf = Google_Protobuf_Timestamp(date: asOf) }
            },
            metadata: asCaller)
        return .ok(.init(body: .json(try .init(account))))
    }

    func getLedgerStatement(
        _ input: Operations.GetLedgerStatement.Input
    ) async throws -> Operations.GetLedgerStatement.Output {
        let statement = try await ledger.ledger.listStatement(
            .with {
                $0.accountID = input.path.id
                $0.page(limit: input.query.limit, cursor: input.query.cursor)
            },
            metadata: asCaller)
        let items = try statement.entries.map { entry in
            Components.Schemas.LedgerStatementEntry(
                transfer: try .init(entry.transfer), change: entry.change, balanceAfter: entry.balanceAfter,
                counterpartyAccountId: entry.counterpartyAccountID)
        }
        return .ok(
            .init(
                body: .json(
                    .init(
                        account: try .init(statement.account), items: items,
                        nextCursor: statement.next))))
    }

    func listLedgerTransfers(
        _ input: Operations.ListLedgerTransfers.Input
    ) async throws -> Operations.ListLedgerTransfers.Output {
        let query = input.query
        let page = try await ledger.ledger.listTransfers(
            .with {
                $0.page(limit: query.limit, cursor: query.cursor)
                if let project = query.projectId { $0.projectID = project }
                if let kind = query.kind { $0.kind = Rahat_Ledger_V1_TransferKind(kind) }
                if let reference = query.reference { $0.referencePrefix = reference }
            },
            metadata: asCaller)
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: try page.transfers.map(Components.Schemas.LedgerTransfer.init),
                        nextCursor: page.next))))
    }

    func getLedgerTransfer(
        _ input: Operations.GetLedgerTransfer.Input
    ) async throws -> Operations.GetLedgerTransfer.Output {
        let transfer = try await ledger.ledger.getTransfer(
            .with { $0.id = input.path.id }, metadata: asCaller)
        return .ok(.init(body: .json(try .init(transfer))))
    }

    func verifyLedger(_ input: Operations.VerifyLedger.Input) async throws -> Operations.VerifyLedger.Output {
        let result = try await ledger.ledger.verifyChain(.init(), metadata: asCaller)
        return .ok(
            .init(
                body: .json(
                    .init(
                        ok: result.ok, checked: result.checked, headHash: result.headHash,
                        verifiedAt: result.verifiedAt.date,
                        firstBreak: result.hasFirstBreak
                            ? .init(
                                sequence: result.firstBreak.sequence,
                                transferId: result.firstBreak.transferID.isEmpty ? nil : result.firstBreak.transferID,
                                reason: result.firstBreak.reason) : nil))))
    }

    func reconcileProject(_ input: Operations.ReconcileProject.Input) async throws -> Operations.ReconcileProject.Output
    {
        let books = try await ledger.ledger.reconcile(
            .with { $0.projectID = input.path.id }, metadata: asCaller)
        return .ok(
            .init(
                body: .json(
                    .init(
                        projectId: books.projectID, asset: books.asset, funded: books.funded,
                        disbursed: books.disbursed, remaining: books.remaining,
                        beneficiaries: .init(
                            accounts: Int(books.beneficiaryAccounts), received: books.beneficiariesReceived,
                            redeemed: books.beneficiariesRedeemed, balance: books.beneficiariesBalance),
                        vendors: .init(
                            accounts: Int(books.vendorAccounts), redeemed: books.vendorsRedeemed,
                            settled: books.vendorsSettled, pending: books.vendorsPending),
                        settlement: .init(paidOut: books.paidOut, inClearing: books.inClearing),
                        balanced: books.balanced,
                        mismatches: try books.mismatches.map { mismatch in
                            .init(
                                accountId: mismatch.accountID, kind: try .init(mismatch.kind),
                                ownerId: mismatch.hasOwnerID ? mismatch.ownerID : nil, reason: mismatch.reason)
                        }))))
    }
}

/// An enum value the contract does not know: the services and the gateway disagree.
struct UnknownServiceValue: Error, CustomStringConvertible {
    var service = "the ledger"
    var value: String
    var description: String { "\(service) answered a value the contract does not know: \(value)" }
}

extension Rahat_Ledger_V1_AccountKind {
    init(_ kind: Components.Schemas.LedgerAccountKind) {
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

extension Components.Schemas.LedgerAccountKind {
    init(_ kind: Rahat_Ledger_V1_AccountKind) throws {
        switch kind {
        case .projectFund: self = .projectFund
        case .beneficiaryWallet: self = .beneficiaryWallet
        case .vendor: self = .vendor
        case .settlementClearing: self = .settlementClearing
        case .externalFunding: self = .externalFunding
        case .externalPayout: self = .externalPayout
        case .unspecified, .UNRECOGNIZED: throw UnknownServiceValue(value: "\(kind)")
        }
    }
}

extension Rahat_Ledger_V1_TransferKind {
    init(_ kind: Components.Schemas.LedgerTransferKind) {
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

extension Components.Schemas.LedgerTransferKind {
    init(_ kind: Rahat_Ledger_V1_TransferKind) throws {
        switch kind {
        case .fund: self = .fund
        case .allocate: self = .allocate
        case .disburse: self = .disburse
        case .redeem: self = .redeem
        case .settle: self = .settle
        case .reverse: self = .reverse
        case .unspecified, .UNRECOGNIZED: throw UnknownServiceValue(value: "\(kind)")
        }
    }
}

extension Components.Schemas.LedgerAccount {
    init(_ account: Rahat_Ledger_V1_Account) throws {
        self.init(
            id: account.id, kind: try .init(account.kind), projectId: account.projectID,
            ownerId: account.hasOwnerID ? account.ownerID : nil, asset: account.asset, balance: account.balance,
            mayGoNegative: account.mayGoNegative, createdAt: account.createdAt.date, lastSequence: account.lastSequence)
    }
}

extension Components.Schemas.LedgerTransfer {
    init(_ transfer: Rahat_Ledger_V1_Transfer) throws {
        self.init(
            id: transfer.id, sequence: transfer.sequence, idempotencyKey: transfer.idempotencyKey,
            debitAccountId: transfer.debitAccountID, creditAccountId: transfer.creditAccountID, amount: transfer.amount,
            asset: transfer.asset, kind: try .init(transfer.kind), reference: transfer.reference,
            projectId: transfer.projectID, createdAt: transfer.createdAt.date,
            debitBalanceAfter: transfer.debitBalanceAfter, creditBalanceAfter: transfer.creditBalanceAfter,
            prevHash: transfer.prevHash, hash: transfer.hash)
    }
}
