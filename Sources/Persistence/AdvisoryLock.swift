package import FluentKit
import SQLKit

/// PostgreSQL advisory locks by name, for work that processes must take turns at.
package enum AdvisoryLock {
    /// The lock key `name` stands for, the same in every process and release.
    package static func key(_ name: String) -> Int64 {
        // FNV-1a: fixed, unlike Swift's per-process seeded hashing.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }

    /// Waits for `name`'s lock and holds it until the transaction `database` belongs to ends. On
    /// SQLite, which lets one writer at a time, there is nothing to take.
    package static func holdForTransaction(_ name: String, on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase, sql.dialect.name == "postgresql" else { return }
        try await sql.raw("SELECT pg_advisory_xact_lock(\(bind: key(name)))").run()
    }

    /// Takes `name`'s lock for the transaction `database` belongs to if nobody holds it; false
    /// when another process does. Always true on SQLite.
    package static func tryHoldForTransaction(_ name: String, on database: any Database) async throws -> Bool {
        guard let sql = database as? any SQLDatabase, sql.dialect.name == "postgresql" else { return true }
        let row = try await sql.raw("SELECT pg_try_advisory_xact_lock(\(bind: key(name))) AS locked").first()
        return try row?.decode(column: "locked", as: Bool.self) == true
    }
}
