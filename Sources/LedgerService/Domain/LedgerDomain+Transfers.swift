import FluentKit
import Foundation
import MetricCatalog
import Metrics
import Persistence
import SQLKit
import ServerKit
import SharedModels

/// An account reference as a caller sent it, before validation.
struct AccountRefInput: Sendable {
    var kind: AccountKind?
    var projectID: String
    var ownerID: String?
}

/// A transfer as a caller sent it, before validation.
struct TransferInput: Sendable {
    var idempotencyKey: String
    var debit: AccountRefInput
    var credit: AccountRefInput
    var amount: Int64
    var asset: String
    var kind: TransferKind?
    var reference: String
}

extension LedgerDomain {
    /// The most transfers one batch may hold: a disbursement job's lines fit in one round trip.
    static let maxBatch = 10_000
    static let maxTextLength = 200

    /// Records `inputs` in order, all or none. An order whose idempotency key was recorded with the
    /// same content answers that transfer (`replayed`); with other content the batch is refused.
    /// `field` names an order in errors (`transfers[3]`, or nothing for a single transfer).
    func transfer(
        _ inputs: [TransferInput], field: @escaping @Sendable (Int) -> String, by caller: Principal
    ) async throws -> [TransferOutcome] {
        guard !inputs.isEmpty, inputs.count <= Self.maxBatch else {
            throw LedgerError.invalidInput([
                FieldViolation(field: "transfers", reason: "must hold between 1 and \(Self.maxBatch) transfers")
            ])
        }
        var violations: [FieldViolation] = []
        let orders = inputs.enumerated().compactMap { index, input in
            Self.validate(input, field: field(index), into: &violations)
        }
        guard violations.isEmpty else { throw LedgerError.invalidInput(violations) }
        for project in Set(orders.map(\.debit.projectID)) {
            try caller.require(Permission(.ledger, .create, projectID: project.lowercasedString))
        }
        // On PostgreSQL a batch is first written without asking which keys were recorded before:
        // replays are rare (a job run again after a crash), and the insert's own unique index on
        // (project, key) finds them anyway. Only when it does, or when the batch is refused (a
        // replay taken for new value may seem to overdraw), is it written again with the keys
        // looked up, and the replays answered. The look-up was a quarter of a disbursement batch's
        // time in the ledger.
        let optimistic = LedgerStore.findsReplaysOnInsert(database)
        let outcomes = try await writes.run {
            // Taken once this writer's turn comes, so times follow the chain's order.
            let at = TransferChain.truncated(now())
            do {
                return try await database.transaction { tx in
                    try await Self.record(orders, at: at, field: field, lookingUpKeys: !optimistic, on: tx)
                }
            } catch let error where optimistic && (error is LedgerError || LedgerStore.isConstraintFailure(error)) {
                return try await database.transaction { tx in
                    try await Self.record(orders, at: at, field: field, lookingUpKeys: true, on: tx)
                }
            }
        }
        for outcome in outcomes where !outcome.replayed {
            LedgerServiceMetrics.transfers.counter(outcome.transfer.kind.rawValue).increment()
        }
        return outcomes
    }

    /// Validates one order, recording what is wrong under `field`.
    static func validate(
        _ input: TransferInput, field: String, into violations: inout [FieldViolation]
    ) -> TransferOrder? {
        let before = violations.count
        func bad(_ name: String, _ reason: String) {
            violations.append(FieldViolation(field: join(field, name), reason: reason))
        }
        let key = input.idempotencyKey
        if !isValidText(key, allowingWhitespace: false) {
            bad("idempotencyKey", "must be 1–\(maxTextLength) characters without spaces or control characters")
        }
        if input.amount <= 0 { bad("amount", "must be more than zero (minor units)") }
        if !isValidAsset(input.asset) { bad("asset", "must be 3–12 capital letters or digits starting with a letter") }
        if input.kind == nil { bad("kind", "is required") }
        if !isValidText(input.reference, allowingWhitespace: true) {
            bad("reference", "must be 1–\(maxTextLength) characters without control characters")
        }
        let debit = validate(input.debit, field: join(field, "debit"), into: &violations)
        let credit = validate(input.credit, field: join(field, "credit"), into: &violations)
        if let debit, let credit {
            if debit.projectID != credit.projectID {
                bad("credit.projectId", "must be the debit account's project")
            } else if debit == credit {
                bad("credit", "must be another account than the debit")
            } else if let kind = input.kind, !kind.allows(from: debit.kind, to: credit.kind) {
                bad("kind", "\(kind.rawValue) cannot move value from \(debit.kind.rawValue) to \(credit.kind.rawValue)")
            }
        }
        guard violations.count == before, let debit, let credit, let kind = input.kind else { return nil }
        return TransferOrder(
            idempotencyKey: key, debit: debit, credit: credit, amount: input.amount, asset: input.asset, kind: kind,
            reference: input.reference)
    }

    static func validate(
        _ input: AccountRefInput, field: String, into violations: inout [FieldViolation]
    ) -> AccountRef? {
        let before = violations.count
        if input.kind == nil { violations.append(FieldViolation(field: join(field, "kind"), reason: "is required")) }
        let project = UUID(input.projectID, field: join(field, "projectId"), into: &violations)
        var owner: UUID?
        if let kind = input.kind {
            switch (kind.hasOwner, input.ownerID) {
            case (true, nil):
                violations.append(
                    FieldViolation(field: join(field, "ownerId"), reason: "is required for \(kind.rawValue)"))
            case (true, let text?):
                owner = UUID(text, field: join(field, "ownerId"), into: &violations)
            case (false, _?):
                violations.append(
                    FieldViolation(field: join(field, "ownerId"), reason: "must be absent for \(kind.rawValue)"))
            case (false, nil):
                break
            }
        }
        guard violations.count == before, let kind = input.kind, let project else { return nil }
        return AccountRef(kind: kind, projectID: project, ownerID: owner)
    }

    /// Whether `text` is 1 to `maxTextLength` characters without control characters (nor, for
    /// keys, whitespace). Printable ASCII, what keys and references nearly always are, is decided
    /// on the bytes: there one byte is one character, and Unicode's tables need not be asked.
    static func isValidText(_ text: String, allowingWhitespace: Bool) -> Bool {
        let utf8 = text.utf8
        if utf8.allSatisfy({ (0x20..<0x7F).contains($0) }) {
            return !utf8.isEmpty && utf8.count <= maxTextLength && (allowingWhitespace || !utf8.contains(0x20))
        }
        return !text.isEmpty && text.count <= maxTextLength
            && !text.unicodeScalars.contains { isControl($0) || (!allowingWhitespace && $0.properties.isWhitespace) }
    }

    /// Control characters are refused in stored text: a NUL would not survive every driver's
    /// round trip, and the hash covers the text exactly as given.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control
    }

    static func isValidAsset(_ asset: String) -> Bool {
        let scalars = Array(asset.unicodeScalars)
        guard (3...12).contains(scalars.count), let first = scalars.first, ("A"..."Z").contains(first) else {
            return false
        }
        return scalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }

    /// Appends `orders` to the chain inside the caller's transaction.
    private static func record(
        _ orders: [TransferOrder], at now: Date, field: (Int) -> String, lookingUpKeys: Bool, on tx: any Database
    ) async throws -> [TransferOutcome] {
        let sql = try Self.sql(tx)
        // The chain head first: this write waits for any other writer and holds them off until commit.
        let head = try await LedgerStore.takeChainHead(on: sql)
        var sequence = head.sequence
        var prevHash = head.hash
        // Times never run backwards along the chain, so "as of" a time is a prefix of it.
        let at = max(now, head.lastAt ?? now)

        var known =
            lookingUpKeys
            ? try await LedgerStore.transfers(
                withKeys: Dictionary(grouping: orders, by: \.debit.projectID).mapValues {
                    Set($0.map(\.idempotencyKey))
                },
                on: sql) : [:]
        var accounts = try await LedgerStore.accounts(withRefs: Set(orders.flatMap { [$0.debit, $0.credit] }), on: sql)
        let existingAccounts = Set(accounts.values.map(\.id))
        var changed: Set<AccountRef> = []
        var created: [TransferRecord] = []
        var outcomes: [TransferOutcome] = []
        outcomes.reserveCapacity(orders.count)

        for (index, order) in orders.enumerated() {
            if let prior = known[LedgerStore.ScopedKey(project: order.debit.projectID, key: order.idempotencyKey)] {
                let same =
                    prior.debitAccountID == accounts[order.debit]?.id
                    && prior.creditAccountID == accounts[order.credit]?.id && prior.amount == order.amount
                    && prior.asset == order.asset && prior.kind == order.kind && prior.reference == order.reference
                guard same else {
                    throw LedgerError.idempotencyConflict(
                        field: Self.join(field(index), "idempotencyKey"), key: order.idempotencyKey)
                }
                outcomes.append(TransferOutcome(transfer: prior, replayed: true))
                continue
            }
            var debit = accounts[order.debit] ?? Self.opening(order.debit, asset: order.asset, at: at)
            var credit = accounts[order.credit] ?? Self.opening(order.credit, asset: order.asset, at: at)
            for account in [debit, credit] where account.asset != order.asset {
                throw LedgerError.assetMismatch(field: Self.join(field(index), "asset"), accountAsset: account.asset)
            }
            let (debited, underflow) = debit.balance.subtractingReportingOverflow(order.amount)
            guard !underflow, debited >= 0 || debit.mayGoNegative else {
                throw LedgerError.insufficientFunds(
                    field: Self.join(field(index), "amount"), accountID: debit.id.lowercasedString,
                    balance: debit.balance, amount: order.amount)
            }
            let (credited, overflow) = credit.balance.addingReportingOverflow(order.amount)
            guard !overflow else {
                throw LedgerError.invalidInput([
                    FieldViolation(
                        field: Self.join(field(index), "amount"), reason: "would overflow the credit account's balance")
                ])
            }
            sequence += 1
            debit.balance = debited
            credit.balance = credited
            debit.lastSequence = sequence
            credit.lastSequence = sequence
            var transfer = TransferRecord(
                id: UUID.v7(at: at), sequence: sequence, idempotencyKey: order.idempotencyKey,
                debitAccountID: debit.id, creditAccountID: credit.id, amount: order.amount, asset: order.asset,
                kind: order.kind, reference: order.reference, projectID: order.debit.projectID, createdAt: at,
                debitBalanceAfter: debited, creditBalanceAfter: credited, prevHash: prevHash, hash: "")
            transfer.hash = TransferChain.hash(of: transfer, after: prevHash)
            prevHash = transfer.hash
            accounts[order.debit] = debit
            accounts[order.credit] = credit
            changed.formUnion([order.debit, order.credit])
            known[LedgerStore.ScopedKey(project: order.debit.projectID, key: order.idempotencyKey)] = transfer
            created.append(transfer)
            outcomes.append(TransferOutcome(transfer: transfer, replayed: false))
        }
        guard !created.isEmpty else { return outcomes }

        let touched = changed.compactMap { accounts[$0] }
        try await LedgerStore.insertAccounts(touched.filter { !existingAccounts.contains($0.id) }, on: tx)
        try await LedgerStore.updateBalances(touched.filter { existingAccounts.contains($0.id) }, on: sql)
        try await LedgerStore.insertTransfers(created, on: tx)
        try await LedgerStore.advanceChainHead(to: sequence, hash: prevHash, at: at, on: sql)
        return outcomes
    }

    /// `name` under `prefix`, as errors name fields: `transfers[3].amount`, or `amount` alone.
    private static func join(_ prefix: String, _ name: String) -> String {
        prefix.isEmpty ? name : prefix + "." + name
    }

    /// A new, empty account for `ref`, written when its first transfer is.
    private static func opening(_ ref: AccountRef, asset: String, at: Date) -> AccountInfo {
        AccountInfo(id: UUID.v7(at: at), ref: ref, asset: asset, balance: 0, createdAt: at, lastSequence: 0)
    }
}
