import FluentKit
import Foundation
import Logging
import Persistence
import SQLKit
import ServerKit
import SharedModels
import TokenVerification

/// The ledger domain: accounts, transfers, the hash chain. Transport-free; the RPC layer adapts it
/// to the generated protocol.
///
/// Every write takes the chain head row first, so writers are serialised on it: each new transfer
/// must know the hash of the one before, and with the head held no balance can be read and
/// written by two transactions at once, so no account rows need locks of their own.
struct LedgerDomain: Sendable {
    let database: ServiceDatabase
    let verifier: AccessTokenVerifier
    /// Writers of this process queue here before taking a connection; see ``SerialGate``.
    let writes = SerialGate()
    /// How long a finished chain walk answers again.
    let verifyReuse: Duration
    /// The chain walk running or last finished; a failed one is not answered again.
    let chainWalks = SharedResult<Result<ChainVerification, any Error>> { result in
        if case .success = result { true } else { false }
    }
    let logger: Logger
    let now: @Sendable () -> Date

    var sql: any SQLDatabase { database.sql }

    /// The caller of the current RPC, from its bearer token.
    func caller() async throws -> Principal {
        try await verifier.verifyCurrentCaller()
    }

    /// The SQL face of a transaction's handle; both drivers are SQL databases.
    static func sql(_ database: any Database) throws -> any SQLDatabase {
        guard let sql = database as? any SQLDatabase else { throw LedgerStorageError.notSQL }
        return sql
    }

    func parseID(_ text: String, field: String = "id") throws -> UUID {
        try UUID(text, field: field)
    }
}

/// A stored row the ledger cannot read back: a programming or storage error, not bad input.
enum LedgerStorageError: Error, CustomStringConvertible {
    case notSQL
    case corruptRow(String)
    case missingChainHead

    var description: String {
        switch self {
        case .notSQL: "the ledger database is not an SQL database"
        case .corruptRow(let detail): "a ledger row cannot be read: \(detail)"
        case .missingChainHead: "the ledger's chain head row is missing; was the database migrated?"
        }
    }
}

// MARK: Rows

extension LedgerDomain {
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
    func findAccount(_ id: UUID, on sql: any SQLDatabase) async throws -> AccountInfo? {
        try await sql.raw("SELECT \(unsafeRaw: Self.accountColumns) FROM accounts WHERE id = \(bind: id)")
            .first().map(Self.account(from:))
    }
}
