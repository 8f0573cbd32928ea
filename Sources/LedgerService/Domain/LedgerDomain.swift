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
