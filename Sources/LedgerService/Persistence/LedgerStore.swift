import FluentKit
import Foundation
import Persistence
import SQLKit
import SharedModels

/// Every row the ledger stores and the queries of its write path: the domain decides what moves,
/// this reads and writes it.
enum LedgerStore {
    /// Whether a batch is written without first looking its keys up, leaving replays to the
    /// insert's unique index on (project, key): on PostgreSQL, where the look-up was a quarter of
    /// a disbursement batch's time. SQLite keeps the look-up first.
    static func findsReplaysOnInsert(_ database: ServiceDatabase) -> Bool {
        database.isPostgres
    }

    /// Whether `error` is the database refusing a write for a constraint (a key recorded before).
    static func isConstraintFailure(_ error: any Error) -> Bool {
        (error as? any DatabaseError)?.isConstraintFailure ?? false
    }

    /// Keys and existing accounts are looked up this many at a time, under both databases' bind limits.
    static let lookupChunk = 5_000

    /// The chain as its head row holds it.
    struct ChainHead {
        var sequence: Int64
        var hash: String
        /// The time of the last transfer, on its millisecond.
        var lastAt: Date?
    }

    /// Takes the chain head row for the transaction: this write waits for any other writer and
    /// holds them off until commit.
    static func takeChainHead(on sql: any SQLDatabase) async throws -> ChainHead {
        try await sql.raw("UPDATE chain_head SET sequence = sequence WHERE id = 1").run()
        if sql.dialect.name == "postgresql" {
            // Every read here finds rows by a unique key. Looking up a batch's 1,001 accounts,
            // PostgreSQL's default costs prefer reading the whole table until it holds some
            // hundred thousand accounts (24 ms a batch against 8–14 ms through the index, at 100,000).
            try await sql.raw("SET LOCAL enable_seqscan = off").run()
        }
        guard let head = try await sql.raw("SELECT sequence, hash, last_at FROM chain_head WHERE id = 1").first()
        else { throw LedgerStorageError.missingChainHead }
        return ChainHead(
            sequence: try head.decode(column: "sequence", as: Int64.self),
            hash: try head.decode(column: "hash", as: String.self),
            // The last time comes back from storage near, not on, its millisecond: put it back on it.
            lastAt: try head.decode(column: "last_at", as: Date?.self).map(TransferChain.onMillisecond))
    }

    /// Moves the head to the last transfer written.
    static func advanceChainHead(to sequence: Int64, hash: String, at: Date, on sql: any SQLDatabase) async throws {
        try await sql.raw(
            "UPDATE chain_head SET sequence = \(bind: sequence), hash = \(bind: hash), last_at = \(bind: at) WHERE id = 1"
        ).run()
    }

    /// A transfer row's columns, in the order the hash chain and bulk inserts use them.
    static let transferColumnList = [
        "id", "sequence", "idempotency_key", "debit_account_id", "credit_account_id", "amount", "asset", "kind",
        "reference", "project_id", "created_at", "debit_balance_after", "credit_balance_after", "prev_hash", "hash",
    ]

    static let transferColumns = transferColumnList.joined(separator: ", ")

    static let accountColumns = "id, kind, project_id, owner_id, asset, balance, last_sequence, created_at"

    static func transfer(from row: any SQLRow) throws -> TransferRecord {
        let kind = try row.decode(column: "kind", as: String.self)
        guard let transferKind = TransferKind(rawValue: kind) else {
            throw LedgerStorageError.corruptRow("unknown transfer kind '\(kind)'")
        }
        return TransferRecord(
            id: try row.decode(column: "id", as: UUID.self),
            sequence: try row.decode(column: "sequence", as: Int64.self),
            idempotencyKey: try row.decode(column: "idempotency_key", as: String.self),
            debitAccountID: try row.decode(column: "debit_account_id", as: UUID.self),
            creditAccountID: try row.decode(column: "credit_account_id", as: UUID.self),
            amount: try row.decode(column: "amount", as: Int64.self),
            asset: try row.decode(column: "asset", as: String.self),
            kind: transferKind,
            reference: try row.decode(column: "reference", as: String.self),
            projectID: try row.decode(column: "project_id", as: UUID.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            debitBalanceAfter: try row.decode(column: "debit_balance_after", as: Int64.self),
            creditBalanceAfter: try row.decode(column: "credit_balance_after", as: Int64.self),
            prevHash: try row.decode(column: "prev_hash", as: String.self),
            hash: try row.decode(column: "hash", as: String.self)
        )
    }

    static func account(from row: any SQLRow) throws -> AccountInfo {
        let kind = try row.decode(column: "kind", as: String.self)
        guard let accountKind = AccountKind(rawValue: kind) else {
            throw LedgerStorageError.corruptRow("unknown account kind '\(kind)'")
        }
        return AccountInfo(
            id: try row.decode(column: "id", as: UUID.self),
            ref: AccountRef(
                kind: accountKind,
                projectID: try row.decode(column: "project_id", as: UUID.self),
                ownerID: try row.decode(column: "owner_id", as: UUID?.self)
            ),
            asset: try row.decode(column: "asset", as: String.self),
            balance: try row.decode(column: "balance", as: Int64.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            lastSequence: try row.decode(column: "last_sequence", as: Int64.self)
        )
    }

    /// The account with `id`, or `nil`.
    static func account(_ id: UUID, on sql: any SQLDatabase) async throws -> AccountInfo? {
        try await sql.raw("SELECT \(unsafeRaw: accountColumns) FROM accounts WHERE id = \(bind: id)")
            .first().map(account(from:))
    }

    /// Idempotency keys are unique within a project: a key of another project's is neither a
    /// replay nor a conflict, and tells nothing about that project.
    struct ScopedKey: Hashable {
        var project: UUID
        var key: String
    }

    /// Recorded transfers with any of the keys, by project and key. Asked per project, so the
    /// (project, key) unique index answers it; by key alone PostgreSQL scans the table.
    static func transfers(
        withKeys keys: [UUID: Set<String>], on sql: any SQLDatabase
    ) async throws -> [ScopedKey: TransferRecord] {
        var found: [ScopedKey: TransferRecord] = [:]
        for (project, projectKeys) in keys {
            for chunk in Array(projectKeys).chunks(of: lookupChunk) {
                let rows = try await sql.raw(
                    """
                    SELECT \(unsafeRaw: transferColumns) FROM transfers
                    WHERE project_id = \(bind: project) AND idempotency_key IN (\(binds: Array(chunk)))
                    """
                ).all()
                for row in rows {
                    let transfer = try Self.transfer(from: row)
                    found[ScopedKey(project: transfer.projectID, key: transfer.idempotencyKey)] = transfer
                }
            }
        }
        return found
    }

    /// Opened accounts among `refs`.
    static func accounts(
        withRefs refs: Set<AccountRef>, on sql: any SQLDatabase
    ) async throws -> [AccountRef: AccountInfo] {
        var found: [AccountRef: AccountInfo] = [:]
        for chunk in refs.map(\.key).chunks(of: lookupChunk) {
            let rows = try await sql.raw(
                "SELECT \(unsafeRaw: accountColumns) FROM accounts WHERE ref IN (\(binds: Array(chunk)))"
            ).all()
            for row in rows {
                let account = try Self.account(from: row)
                found[account.ref] = account
            }
        }
        return found
    }

    static func insertAccounts(_ accounts: [AccountInfo], on database: any Database) async throws {
        guard !accounts.isEmpty else { return }
        var insert = BulkInsert(
            into: "accounts",
            columns: ["id", "ref", "kind", "project_id", "owner_id", "asset", "balance", "last_sequence", "created_at"])
        for account in accounts {
            insert.append([
                .uuid(account.id), .text(account.ref.key), .text(account.ref.kind.rawValue),
                .uuid(account.ref.projectID),
                .of(account.ref.ownerID), .text(account.asset), .int(Int(account.balance)),
                .int(Int(account.lastSequence)), .date(account.createdAt),
            ])
        }
        try await insert.run(on: database)
    }

    /// One statement per few thousand accounts: the new balances as a table joined to the accounts.
    static func updateBalances(_ accounts: [AccountInfo], on sql: any SQLDatabase) async throws {
        for chunk in accounts.chunks(of: lookupChunk) {
            let values = SQLValuesTable(
                "v", columns: ["account_id", "new_balance", "new_sequence"],
                rows: chunk.map { account in
                    [SQLBind(account.id), SQLBind(account.balance), SQLBind(account.lastSequence)]
                })
            try await sql.raw(
                """
                UPDATE accounts SET balance = v.new_balance, last_sequence = v.new_sequence
                FROM \(values) WHERE accounts.id = v.account_id
                """
            ).run()
        }
    }

    static func insertTransfers(_ transfers: [TransferRecord], on database: any Database) async throws {
        var insert = BulkInsert(into: "transfers", columns: transferColumnList)
        for transfer in transfers {
            insert.append([
                .uuid(transfer.id), .int(Int(transfer.sequence)), .text(transfer.idempotencyKey),
                .uuid(transfer.debitAccountID), .uuid(transfer.creditAccountID), .int(Int(transfer.amount)),
                .text(transfer.asset), .text(transfer.kind.rawValue), .text(transfer.reference),
                .uuid(transfer.projectID), .date(transfer.createdAt), .int(Int(transfer.debitBalanceAfter)),
                .int(Int(transfer.creditBalanceAfter)), .text(transfer.prevHash), .text(transfer.hash),
            ])
        }
        try await insert.run(on: database)
    }

    /// The opened account `ref` names, or `nil`.
    static func account(_ ref: AccountRef, on sql: any SQLDatabase) async throws -> AccountInfo? {
        try await sql.raw("SELECT \(unsafeRaw: accountColumns) FROM accounts WHERE ref = \(bind: ref.key)")
            .first().map(account(from:))
    }

    /// The transfer with `id`, or `nil`.
    static func transfer(_ id: UUID, on sql: any SQLDatabase) async throws -> TransferRecord? {
        try await sql.raw("SELECT \(unsafeRaw: transferColumns) FROM transfers WHERE id = \(bind: id)")
            .first().map(transfer(from:))
    }

    /// Up to `limit` transfers into or out of an account after `sequence`, in chain order.
    static func transfers(
        of accountID: UUID, after sequence: Int64, limit: Int, on sql: any SQLDatabase
    ) async throws -> [TransferRecord] {
        // Each side walks its own index in order; the two are merged and cut to the page.
        try await sql.raw(
            """
            SELECT * FROM (SELECT \(unsafeRaw: transferColumns) FROM transfers
                WHERE debit_account_id = \(bind: accountID) AND sequence > \(bind: sequence)
                ORDER BY sequence LIMIT \(bind: limit)) AS debits
            UNION ALL
            SELECT * FROM (SELECT \(unsafeRaw: transferColumns) FROM transfers
                WHERE credit_account_id = \(bind: accountID) AND sequence > \(bind: sequence)
                ORDER BY sequence LIMIT \(bind: limit)) AS credits
            ORDER BY sequence LIMIT \(bind: limit)
            """
        ).all().map(transfer(from:))
    }

    /// Up to `limit` transfers after `sequence` in chain order, optionally of one project, of one
    /// kind, and with references starting with `referencePrefix`.
    static func transfers(
        after sequence: Int64, limit: Int, projectID project: UUID?, kind: TransferKind?, referencePrefix: String?,
        on sql: any SQLDatabase
    ) async throws -> [TransferRecord] {
        var query = sql.select().columns(transferColumnList).from("transfers")
            .where("sequence", .greaterThan, sequence)
        if let project { query = query.where("project_id", .equal, project) }
        if let kind { query = query.where("kind", .equal, kind.rawValue) }
        if let referencePrefix, !referencePrefix.isEmpty {
            // A plain comparison of the leading code points (what `substr` counts): LIKE would need
            // its wildcards escaped.
            query = query.where(
                SQLFunction(
                    "substr", args: SQLIdentifier("reference"), SQLLiteral.numeric("1"),
                    SQLLiteral.numeric(String(referencePrefix.unicodeScalars.count))),
                .equal, SQLBind(referencePrefix))
        }
        let rows = try await query.orderBy("sequence").limit(limit).all()
        return try rows.map(transfer(from:))
    }

    /// An account's side of its last transfer at or before `asOf` on each side (debit, credit):
    /// the sequence and the balance after it.
    static func lastEntries(
        of accountID: UUID, asOf: Date, on sql: any SQLDatabase
    ) async throws -> [(sequence: Int64, balanceAfter: Int64)] {
        var entries: [(sequence: Int64, balanceAfter: Int64)] = []
        for side in ["debit", "credit"] {
            let row = try await sql.raw(
                """
                SELECT sequence, \(unsafeRaw: side)_balance_after AS balance_after FROM transfers
                WHERE \(unsafeRaw: side)_account_id = \(bind: accountID) AND created_at <= \(bind: asOf)
                ORDER BY sequence DESC LIMIT 1
                """
            ).first()
            guard let row else { continue }
            entries.append(
                (
                    try row.decode(column: "sequence", as: Int64.self),
                    try row.decode(column: "balance_after", as: Int64.self)
                ))
        }
        return entries
    }

    // MARK: Audit

    /// Makes the caller's transaction read one snapshot: rows committed while a long read runs
    /// must not appear half-way through it. SQLite's read transactions already do.
    static func readSnapshot(_ sql: any SQLDatabase) async throws {
        guard sql.dialect.name == "postgresql" else { return }
        try await sql.raw("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").run()
    }

    /// The chain head as it stands, without taking it.
    static func chainHead(on sql: any SQLDatabase) async throws -> ChainHead {
        guard let head = try await sql.raw("SELECT sequence, hash, last_at FROM chain_head WHERE id = 1").first()
        else { throw LedgerStorageError.missingChainHead }
        return ChainHead(
            sequence: try head.decode(column: "sequence", as: Int64.self),
            hash: try head.decode(column: "hash", as: String.self),
            lastAt: try head.decode(column: "last_at", as: Date?.self).map(TransferChain.onMillisecond))
    }

    /// Up to `limit` transfers from `sequence` on, in chain order.
    static func transfers(from sequence: Int64, limit: Int, on sql: any SQLDatabase) async throws -> [TransferRecord] {
        try await sql.raw(
            """
            SELECT \(unsafeRaw: transferColumns) FROM transfers WHERE sequence >= \(bind: sequence)
            ORDER BY sequence LIMIT \(bind: limit)
            """
        ).all().map(transfer(from:))
    }

    /// Value a project's transfers moved along each path between account kinds, whatever the
    /// transfer kind.
    static func flows(of project: UUID, on sql: any SQLDatabase) async throws -> [TransferKind.Path: Int64] {
        let rows = try await sql.raw(
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
        for row in rows {
            guard let debit = AccountKind(rawValue: try row.decode(column: "debit_kind", as: String.self)),
                let credit = AccountKind(rawValue: try row.decode(column: "credit_kind", as: String.self))
            else { throw LedgerStorageError.corruptRow("unknown account kind in a transfer") }
            moved[TransferKind.Path(debit, credit)] = try row.decode(column: "total", as: Int64.self)
        }
        return moved
    }

    /// What a project's accounts hold, and how many there are, by kind; and the project's asset.
    static func holdings(
        of project: UUID, on sql: any SQLDatabase
    ) async throws -> (balances: [AccountKind: Int64], accounts: [AccountKind: Int], asset: String) {
        let rows = try await sql.raw(
            """
            SELECT kind, asset, CAST(SUM(balance) AS BIGINT) AS total, COUNT(*) AS accounts FROM accounts
            WHERE project_id = \(bind: project) GROUP BY kind, asset
            """
        ).all()
        var held: [AccountKind: Int64] = [:]
        var counts: [AccountKind: Int] = [:]
        var asset = ""
        for row in rows {
            guard let kind = AccountKind(rawValue: try row.decode(column: "kind", as: String.self)) else {
                throw LedgerStorageError.corruptRow("unknown account kind")
            }
            held[kind, default: 0] += try row.decode(column: "total", as: Int64.self)
            counts[kind, default: 0] += try row.decode(column: "accounts", as: Int.self)
            asset = try row.decode(column: "asset", as: String.self)
        }
        return (held, counts, asset)
    }

    /// Accounts whose stored balance is not what their transfers add up to, or that hold less than
    /// nothing without being external.
    static func mismatchedAccounts(
        of project: UUID, limit: Int, on sql: any SQLDatabase
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
            ORDER BY id LIMIT \(bind: limit)
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
