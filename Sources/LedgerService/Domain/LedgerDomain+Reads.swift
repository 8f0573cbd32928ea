import Foundation
import Persistence
import SQLKit
import ServerKit
import SharedModels

extension LedgerDomain {
    /// An account and its balance, now or at `asOf`. Needs `ledger:read` for its project.
    func getAccount(_ id: String, asOf: Date?, by caller: Principal) async throws -> AccountInfo {
        let account = try await readableAccount(try parseID(id), by: caller, on: sql)
        guard let asOf else { return account }
        return try await balance(of: account, asOf: asOf)
    }

    /// The opened account `input` names. Needs `ledger:read` for its project.
    func findAccount(_ input: AccountRefInput, by caller: Principal) async throws -> AccountInfo {
        var violations: [FieldViolation] = []
        guard let ref = Self.validate(input, field: "", into: &violations) else {
            throw LedgerError.invalidInput(violations)
        }
        try caller.require(Permission(.ledger, .read, projectID: ref.projectID.lowercasedString))
        guard let account = try await LedgerStore.account(ref, on: sql) else { throw LedgerError.accountNotFound }
        return account
    }

    /// The transfers into and out of an account, in chain order, with the balance after each.
    func statement(
        _ accountID: String, limit: Int, cursor: String?, by caller: Principal
    ) async throws -> (account: AccountInfo, entries: [StatementEntry], next: String?) {
        let page = try PageRequest<Int64>.validate(limit: limit, cursor: cursor).get()
        let id = try parseID(accountID, field: "accountId")
        // The balance and the entries from one server, so they agree.
        let (account, transfers) = try await database.replicaRead { sql in
            let account = try await readableAccount(id, by: caller, on: sql)
            let transfers = try await LedgerStore.transfers(
                of: account.id, after: page.afterSequence, limit: page.limit + 1, on: sql)
            return (account, transfers)
        }
        let entries = transfers.prefix(page.limit).map { transfer in
            let isDebit = transfer.debitAccountID == account.id
            return StatementEntry(
                transfer: transfer,
                change: isDebit ? -transfer.amount : transfer.amount,
                balanceAfter: isDebit ? transfer.debitBalanceAfter : transfer.creditBalanceAfter,
                counterpartyAccountID: isDebit ? transfer.creditAccountID : transfer.debitAccountID)
        }
        let next =
            transfers.count > page.limit
            ? entries.last.map { PageCursor(after: $0.transfer.sequence).encoded } : nil
        return (account, entries, next)
    }

    /// One transfer. Needs `ledger:read` for its project.
    func getTransfer(_ id: String, by caller: Principal) async throws -> TransferRecord {
        let transferID = try parseID(id)
        guard let transfer = try await LedgerStore.transfer(transferID, on: sql) else {
            throw LedgerError.transferNotFound
        }
        // Another project's transfer is as absent as a missing one: its existence is not told.
        guard caller.permissions.allows(Permission(.ledger, .read, projectID: transfer.projectID.lowercasedString))
        else { throw LedgerError.transferNotFound }
        return transfer
    }

    /// Transfers in chain order. Without a project this needs `ledger:read` for every project.
    func listTransfers(
        limit: Int, cursor: String?, projectID: String?, kind: TransferKind?, referencePrefix: String?,
        by caller: Principal
    ) async throws -> ([TransferRecord], String?) {
        let page = try PageRequest<Int64>.validate(limit: limit, cursor: cursor).get()
        let project = try projectID.map { try parseID($0, field: "projectId") }
        try caller.require(Permission(.ledger, .read, projectID: project?.lowercasedString))
        // The service's own look-ups (what a lost answer recorded) ask for the primary.
        let transfers = try await database.replicaRead { sql in
            try await LedgerStore.transfers(
                after: page.afterSequence, limit: page.limit + 1, projectID: project, kind: kind,
                referencePrefix: referencePrefix, on: sql)
        }
        let (shown, next) = page.page(of: transfers) { $0.sequence }
        return (shown, next)
    }

    /// The account with `id` once the caller may read its project's books.
    private func readableAccount(
        _ id: UUID, by caller: Principal, on sql: any SQLDatabase
    ) async throws
        -> AccountInfo
    {
        // Another project's account is as absent as a missing one: its existence is not told.
        guard let account = try await LedgerStore.account(id, on: sql),
            caller.permissions.allows(Permission(.ledger, .read, projectID: account.ref.projectID.lowercasedString))
        else { throw LedgerError.accountNotFound }
        return account
    }

    /// `account` as it stood at `asOf`: the balance after its last transfer at or before then.
    /// Transfer times never run backwards along the chain, so this is a prefix of the chain.
    private func balance(of account: AccountInfo, asOf: Date) async throws -> AccountInfo {
        var past = account
        past.balance = 0
        past.lastSequence = 0
        for entry in try await LedgerStore.lastEntries(of: account.id, asOf: asOf, on: sql)
        where entry.sequence > past.lastSequence {
            past.lastSequence = entry.sequence
            past.balance = entry.balanceAfter
        }
        return past
    }
}
