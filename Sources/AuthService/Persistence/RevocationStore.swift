import Foundation
import SQLKit

/// The revocation list the gateways read, and the statements that write and read it.
enum RevocationStore {
    /// Deletes the revocations that expired before `now`: no token they end is still valid.
    static func deleteExpired(before now: Date, on sql: any SQLDatabase) async throws {
        try await sql.delete(from: "revocations").where("expires_at", .lessThan, SQLBind(now)).run()
    }

    /// Inserts a revocation.
    static func insert(_ revocation: Revocation, on sql: any SQLDatabase) async throws {
        try await sql.insert(into: "revocations")
            .columns("id", "kind", "subject", "revoked_at", "expires_at")
            .values(
                SQLBind(revocation.id), SQLBind(revocation.kind.rawValue), SQLBind(revocation.subject),
                SQLBind(revocation.revokedAt), SQLBind(revocation.expiresAt)
            )
            .run()
    }

    /// Revocations recorded after `after`, or all of them, oldest first; rows of a kind this
    /// version does not know are left out.
    static func revocations(after: Date?, on sql: any SQLDatabase) async throws -> [Revocation] {
        var query = sql.select().columns("id", "kind", "subject", "revoked_at", "expires_at").from("revocations")
            .orderBy("revoked_at")
        if let after {
            query = query.where("revoked_at", .greaterThan, SQLBind(after))
        }
        return try await query.all().compactMap { row in
            guard let kind = RevocationKind(rawValue: try row.decode(column: "kind", as: String.self)) else {
                return nil
            }
            return Revocation(
                id: try row.decode(column: "id", as: UUID.self), kind: kind,
                subject: try row.decode(column: "subject", as: UUID.self),
                revokedAt: try row.decode(column: "revoked_at", as: Date.self),
                expiresAt: try row.decode(column: "expires_at", as: Date.self))
        }
    }
}
