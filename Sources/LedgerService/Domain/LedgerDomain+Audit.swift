import Foundation
import Persistence
import SQLKit
import ServerKit
import SharedModels

extension LedgerDomain {
    /// Rows read per query while walking the chain.
    static let verifyPage = 5_000
    /// Mismatched accounts a reconciliation lists; the rest are counted in `balanced` only.
    static let mismatchLimit = 100

    /// Walks the chain in order, recomputing every hash, or answers the walk that is running or
    /// finished within ``verifyReuse``: a walk reads every transfer, and anyone with the grant may
    /// ask as often as they like. Needs `ledger:read` for every project.
    func verifyChain(by caller: Principal) async throws -> ChainVerification {
        try caller.require(Permission(.ledger, .read))
        let database = database
        let now = now
        return try await chainWalks.value(maxAge: verifyReuse) {
            do {
                return .success(try await Self.verifyChain(on: database, now: now))
            } catch {
                return .failure(error)
            }
        }.get()
    }

    /// Makes the caller's transaction read one snapshot: rows committed while a long read runs
    /// must not appear half-way through it. SQLite's read transactions already do.
    static func readSnapshot(_ sql: any SQLDatabase) async throws {
        guard sql.dialect.name == "postgresql" else { return }
        try await sql.raw("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").run()
    }

    /// The walk itself, for the operator's CLI as well: the first missing row, broken link or
    /// row whose content does not match its hash, and whether the head agrees with the last row.
    static func verifyChain(
        on database: ServiceDatabase, now: @Sendable () -> Date = Date.init
    ) async throws -> ChainVerification {
        let startedAt = now()
        // One snapshot: transfers committed during the walk would otherwise show as rows past the head.
        return try await database.transaction { tx in
            let sql = try Self.sql(tx)
            try await readSnapshot(sql)
            return try await verifyChain(in: sql, at: startedAt)
        }
    }

    private static func verifyChain(in sql: any SQLDatabase, at startedAt: Date) async throws -> ChainVerification {
        guard let head = try await sql.raw("SELECT sequence, hash FROM chain_head WHERE id = 1").first() else {
            throw LedgerStorageError.missingChainHead
        }
        let headSequence = try head.decode(column: "sequence", as: Int64.self)
        let headHash = try head.decode(column: "hash", as: String.self)
        var expected: Int64 = 1
        var previous = TransferChain.genesis
        func result(_ chainBreak: ChainBreak?) -> ChainVerification {
            ChainVerification(checked: expected - 1, firstBreak: chainBreak, headHash: headHash, verifiedAt: startedAt)
        }
        while true {
            let rows = try await sql.raw(
                """
                SELECT \(unsafeRaw: LedgerStore.transferColumns) FROM transfers WHERE sequence >= \(bind: expected)
                ORDER BY sequence LIMIT \(bind: verifyPage)
                """
            ).all()
            for row in rows {
                let transfer = try LedgerStore.transfer(from: row)
                guard transfer.sequence == expected else {
                    return result(ChainBreak(sequence: expected, transferID: nil, reason: "the transfer is missing"))
                }
                guard transfer.prevHash == previous else {
                    return result(
                        ChainBreak(
                            sequence: expected, transferID: transfer.id,
                            reason: "its previous hash is not the hash of transfer \(expected - 1)"))
                }
                guard TransferChain.hash(of: transfer, after: previous) == transfer.hash else {
                    return result(
                        ChainBreak(
                            sequence: expected, transferID: transfer.id,
                            reason: "its content does not match its hash"))
                }
                previous = transfer.hash
                expected += 1
            }
            if rows.count < verifyPage { break }
        }
        guard headSequence == expected - 1, headHash == previous else {
            return result(
                ChainBreak(
                    sequence: expected, transferID: nil,
                    reason:
                        "the chain head records \(headSequence) transfers ending in \(headHash.prefix(12))…, the rows \(expected - 1) ending in \(previous.prefix(12))…"
                ))
        }
        return result(nil)
    }

    /// A project's books (docs/domain.md, flow 7), from its transfers, checked against every account's
    /// stored balance. Needs `ledger:read` for the project.
    func reconcile(projectID: String, by caller: Principal) async throws -> Reconciliation {
        let project = try parseID(projectID, field: "projectId")
        try caller.require(Permission(.ledger, .read, projectID: project.lowercasedString))
        // One snapshot, so that a transfer committed between the queries cannot unbalance the books.
        return try await database.transaction { tx in
            let sql = try Self.sql(tx)
            try await Self.readSnapshot(sql)
            return try await Self.books(of: project, in: sql)
        }
    }

    private static func books(of project: UUID, in sql: any SQLDatabase) async throws -> Reconciliation {
        // Value moved along each path between account kinds, whatever the transfer kind.
        let flows = try await sql.raw(
            """
            SELECT d.kind AS debit_kind, c.kind AS credit_kind, CAST(SUM(t.amount) AS BIGINT) AS total
            FROM transfers t
            JOIN accounts d ON d.id = t.debit_account_id
            JOIN accounts c ON c.id = t.credit_account_id
            WHERE t.project_id = \(bind: project)
            GROUP BY d.kind, c.kind
            """
        ).all()
        var moved: [TransferKind.Path: Int64] = [:]
        for row in flows {
            guard let debit = AccountKind(rawValue: try row.decode(column: "debit_kind", as: String.self)),
                let credit = AccountKind(rawValue: try row.decode(column: "credit_kind", as: String.self))
            else { throw LedgerStorageError.corruptRow("unknown account kind in a transfer") }
            moved[TransferKind.Path(debit, credit)] = try row.decode(column: "total", as: Int64.self)
        }
        func net(_ from: AccountKind, _ to: AccountKind) -> Int64 {
            moved[TransferKind.Path(from, to), default: 0] - moved[TransferKind.Path(to, from), default: 0]
        }
        let holdings = try await sql.raw(
            """
            SELECT kind, asset, CAST(SUM(balance) AS BIGINT) AS total, COUNT(*) AS accounts FROM accounts
            WHERE project_id = \(bind: project) GROUP BY kind, asset
            """
        ).all()
        var held: [AccountKind: Int64] = [:]
        var counts: [AccountKind: Int] = [:]
        var asset = ""
        for row in holdings {
            guard let kind = AccountKind(rawValue: try row.decode(column: "kind", as: String.self)) else {
                throw LedgerStorageError.corruptRow("unknown account kind")
            }
            held[kind, default: 0] += try row.decode(column: "total", as: Int64.self)
            counts[kind, default: 0] += try row.decode(column: "accounts", as: Int.self)
            asset = try row.decode(column: "asset", as: String.self)
        }
        var books = Reconciliation(projectID: project, asset: asset)
        books.funded = net(.externalFunding, .projectFund)
        books.disbursed = net(.projectFund, .beneficiaryWallet)
        books.remaining = held[.projectFund, default: 0]
        books.beneficiariesReceived = books.disbursed
        books.beneficiariesRedeemed = net(.beneficiaryWallet, .vendor)
        books.beneficiariesBalance = held[.beneficiaryWallet, default: 0]
        books.vendorsRedeemed = books.beneficiariesRedeemed
        books.vendorsSettled = net(.vendor, .settlementClearing)
        books.vendorsPending = held[.vendor, default: 0]
        books.paidOut = net(.settlementClearing, .externalPayout)
        books.inClearing = held[.settlementClearing, default: 0]
        books.beneficiaryAccounts = counts[.beneficiaryWallet, default: 0]
        books.vendorAccounts = counts[.vendor, default: 0]
        books.mismatches = try await mismatchedAccounts(of: project, in: sql)
        return books
    }

    /// Accounts whose stored balance is not what their transfers add up to, or that hold less than
    /// nothing without being external.
    private static func mismatchedAccounts(
        of project: UUID, in sql: any SQLDatabase
    ) async throws
        -> [AccountMismatch]
    {
        let rows = try await sql.raw(
            """
            SELECT * FROM (
                SELECT a.id, a.kind, a.owner_id, a.balance,
                    COALESCE(cr.total, 0) - COALESCE(db.total, 0) AS derived
                FROM accounts a
                LEFT JOIN (SELECT credit_account_id AS account_id, CAST(SUM(amount) AS BIGINT) AS total
                    FROM transfers WHERE project_id = \(bind: project) GROUP BY credit_account_id) cr
                    ON cr.account_id = a.id
                LEFT JOIN (SELECT debit_account_id AS account_id, CAST(SUM(amount) AS BIGINT) AS total
                    FROM transfers WHERE project_id = \(bind: project) GROUP BY debit_account_id) db
                    ON db.account_id = a.id
                WHERE a.project_id = \(bind: project)
            ) AS books
            WHERE balance <> derived OR (balance < 0 AND kind NOT IN ('external_funding', 'external_payout'))
            ORDER BY id LIMIT \(bind: mismatchLimit)
            """
        ).all()
        return try rows.map { row in
            let kind = try row.decode(column: "kind", as: String.self)
            guard let accountKind = AccountKind(rawValue: kind) else {
                throw LedgerStorageError.corruptRow("unknown account kind '\(kind)'")
            }
            let balance = try row.decode(column: "balance", as: Int64.self)
            let derived = try row.decode(column: "derived", as: Int64.self)
            return AccountMismatch(
                accountID: try row.decode(column: "id", as: UUID.self), kind: accountKind,
                ownerID: try row.decode(column: "owner_id", as: UUID?.self),
                reason: balance != derived
                    ? "holds \(balance) but its transfers add up to \(derived)" : "holds \(balance), below zero")
        }
    }
}
