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
    func recordRevocation(
        _ kind: RevocationKind, subject: UUID, at now: Date, on sql: any SQLDatabase
    ) async throws {
        let longest = max(configuration.accessTokenTTL, configuration.apiKeyTokenTTL)
        let expiresAt = now.addingTimeInterval(TimeInterval(longest.components.seconds) + 60)
        // Writes are rare and reads frequent: the list is trimmed here, not on every read.
        try await RevocationStore.deleteExpired(before: now, on: sql)
        try await RevocationStore.insert(
            Revocation(id: UUID.v7(at: now), kind: kind, subject: subject, revokedAt: now, expiresAt: expiresAt),
            on: sql)
    }

    /// Revocations recorded after `since` (less ``revocationOverlap``), oldest first; all of
    /// them without `since`.
    func revocations(since: Date?) async throws -> [Revocation] {
        try await RevocationStore.revocations(after: since?.addingTimeInterval(-Self.revocationOverlap), on: sql)
    }
}
