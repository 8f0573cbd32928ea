import FluentKit
import Foundation
import SQLKit

/// Refresh tokens (a session is one family of them) and sign-in attempts, as stored, and every
/// statement that reads or changes them.
enum SessionStore {
    // MARK: Refresh tokens

    /// A refresh token as stored; only its digest is kept.
    struct RefreshToken: Sendable {
        var id: UUID
        var familyID: UUID
        var userID: UUID
        var expiresAt: Date
        var usedAt: Date?
        var revokedAt: Date?
    }

    /// The refresh token whose digest is `tokenHash`, or nil.
    static func refreshToken(withHash tokenHash: String, on db: any Database) async throws -> RefreshToken? {
        guard let row = try await RefreshTokenRow.query(on: db).filter(\.$tokenHash == tokenHash).first() else {
            return nil
        }
        return RefreshToken(
            id: try row.requireID(), familyID: row.familyID, userID: row.userID, expiresAt: row.expiresAt,
            usedAt: row.usedAt, revokedAt: row.revokedAt)
    }

    /// Inserts a refresh token of the session `family`, unused.
    static func insertRefreshToken(
        id: UUID, family: UUID, userID: UUID, tokenHash: String, expiresAt: Date, at now: Date,
        on db: any Database
    ) async throws {
        let row = RefreshTokenRow()
        row.id = id
        row.familyID = family
        row.userID = userID
        row.tokenHash = tokenHash
        row.createdAt = now
        row.expiresAt = expiresAt
        try await row.create(on: db)
    }

    /// Marks the token used unless it was used or revoked already, in one statement, so of two
    /// concurrent refreshes only one claims it; whether this call did.
    static func claimRefreshToken(_ id: UUID, at now: Date, on sql: any SQLDatabase) async throws -> Bool {
        try await !sql.update(RefreshTokenRow.schema)
            .set("used_at", to: SQLBind(now))
            .where("id", .equal, SQLBind(id))
            .where("used_at", .is, SQLLiteral.null)
            .where("revoked_at", .is, SQLLiteral.null)
            .returning("id")
            .all().isEmpty
    }

    /// Whether any token of the session was revoked.
    static func isFamilyRevoked(_ family: UUID, on db: any Database) async throws -> Bool {
        try await RefreshTokenRow.query(on: db).filter(\.$familyID == family).filter(\.$revokedAt != nil).first()
            != nil
    }

    /// Revokes the session's tokens not revoked yet.
    static func revokeFamily(_ family: UUID, at now: Date, on db: any Database) async throws {
        try await RefreshTokenRow.query(on: db)
            .filter(\.$familyID == family).filter(\.$revokedAt == nil)
            .set(\.$revokedAt, to: now).update()
    }

    /// Revokes every token of the user's not revoked yet.
    static func revokeAll(ofUser userID: UUID, at now: Date, on db: any Database) async throws {
        try await RefreshTokenRow.query(on: db)
            .filter(\.$userID == userID).filter(\.$revokedAt == nil)
            .set(\.$revokedAt, to: now).update()
    }

    // MARK: Sign-in attempts

    /// A sign-in attempt as the limits judge it.
    struct LoginAttempt: Sendable {
        var succeeded: Bool
        var attemptedAt: Date
    }

    /// Whose attempts to count: one client address's or one email's.
    enum AttemptsOf {
        case address(String)
        case email(String)
    }

    /// Inserts an attempt, as failed.
    static func insertAttempt(
        id: UUID, email: String, clientIP: String?, at now: Date, on db: any Database
    ) async throws {
        let attempt = LoginAttemptRow()
        attempt.id = id
        attempt.email = email
        attempt.ip = clientIP
        attempt.succeeded = false
        attempt.attemptedAt = now
        try await attempt.create(on: db)
    }

    /// Marks the attempt succeeded.
    static func markSucceeded(attempt id: UUID, on db: any Database) async throws {
        try await LoginAttemptRow.query(on: db).filter(\.$id == id).set(\.$succeeded, to: true).update()
    }

    /// Deletes the attempt.
    static func deleteAttempt(_ id: UUID, on db: any Database) async throws {
        try await LoginAttemptRow.query(on: db).filter(\.$id == id).delete()
    }

    /// Deletes every attempt made before `cutoff`.
    static func deleteAttempts(before cutoff: Date, on db: any Database) async throws {
        try await LoginAttemptRow.query(on: db).filter(\.$attemptedAt < cutoff).delete()
    }

    /// Up to `limit` failed attempts of `whose` after `since`, other than `own`, newest first.
    static func failures(
        of whose: AttemptsOf, after since: Date, excluding own: UUID, limit: Int, on db: any Database
    ) async throws -> [LoginAttempt] {
        var query = LoginAttemptRow.query(on: db)
        switch whose {
        case .address(let ip): query = query.filter(\.$ip == ip)
        case .email(let email): query = query.filter(\.$email == email)
        }
        return
            try await query
            .filter(\.$succeeded == false)
            .filter(\.$attemptedAt > since).filter(\.$id != own)
            .sort(\.$attemptedAt, .descending).limit(limit)
            .all().map(attempt(from:))
    }

    /// Up to `limit` attempts at `email` after `since` (only from `clientIP` when it is given),
    /// other than `own`, newest first.
    static func latestAttempts(
        email: String, from clientIP: String?, after since: Date, excluding own: UUID, limit: Int,
        on db: any Database
    ) async throws -> [LoginAttempt] {
        var query = LoginAttemptRow.query(on: db)
            .filter(\.$email == email).filter(\.$attemptedAt > since).filter(\.$id != own)
        if let clientIP { query = query.filter(\.$ip == clientIP) }
        return
            try await query
            .sort(\.$attemptedAt, .descending).sort(\.$id, .descending)
            .limit(limit).all().map(attempt(from:))
    }

    /// Whether `email` signed in from `clientIP` after `since`.
    static func hasSucceeded(
        email: String, from clientIP: String, after since: Date, on db: any Database
    )
        async throws -> Bool
    {
        try await LoginAttemptRow.query(on: db)
            .filter(\.$email == email).filter(\.$ip == clientIP).filter(\.$succeeded == true)
            .filter(\.$attemptedAt > since)
            .first() != nil
    }

    private static func attempt(from row: LoginAttemptRow) -> LoginAttempt {
        LoginAttempt(succeeded: row.succeeded, attemptedAt: row.attemptedAt)
    }
}
