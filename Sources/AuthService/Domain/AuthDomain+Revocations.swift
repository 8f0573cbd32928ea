import FluentKit
import Foundation
import SQLKit
import ServerKit
import SharedModels

/// What a revocation ends.
enum RevocationKind: String, Sendable {
    /// A session (refresh-token family): every access token carrying its id.
    case session
    /// An API key: every access token minted for it.
    case apiKey = "api_key"
    /// A user's credentials as they stood: every access token issued to the user before it.
    case user
}

/// One revocation, as the gateways read it.
struct Revocation: Sendable, Equatable {
    var id: UUID
    var kind: RevocationKind
    var subject: UUID
    var revokedAt: Date
    var expiresAt: Date
}

extension AuthDomain {
    /// How far back a read of the list reaches before its cursor: a revocation written in a
    /// transaction that committed after a later one's is still seen by the next read.
    static let revocationOverlap: TimeInterval = 10

    /// Records that `subject` was revoked, in the same transaction as the change itself, until
    /// every token the revocation ends has expired.
    func recordRevocation(_ kind: RevocationKind, subject: UUID, at now: Date, on db: any Database) async throws {
        guard let sql = db as? any SQLDatabase else { return }
        let longest = max(configuration.accessTokenTTL, configuration.apiKeyTokenTTL)
        let expiresAt = now.addingTimeInterval(TimeInterval(longest.components.seconds) + 60)
        // Writes are rare and reads frequent: the list is trimmed here, not on every read.
        try await sql.delete(from: "revocations").where("expires_at", .lessThan, SQLBind(now)).run()
        try await sql.insert(into: "revocations")
            .columns("id", "kind", "subject", "revoked_at", "expires_at")
            .values(
                SQLBind(UUID.v7(at: now)), SQLBind(kind.rawValue), SQLBind(subject), SQLBind(now), SQLBind(expiresAt)
            )
            .run()
    }

    /// Revocations recorded after `since` (less ``revocationOverlap``), oldest first; all of
    /// them without `since`.
    func revocations(since: Date?) async throws -> [Revocation] {
        guard let sql = db as? any SQLDatabase else { return [] }
        var query = sql.select().columns("id", "kind", "subject", "revoked_at", "expires_at").from("revocations")
            .orderBy("revoked_at")
        if let since {
            query = query.where("revoked_at", .greaterThan, SQLBind(since.addingTimeInterval(-Self.revocationOverlap)))
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
