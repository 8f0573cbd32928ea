import FluentKit
import Foundation

/// API keys as stored (their secrets only as digests), and every statement that reads or changes
/// them.
enum ApiKeyStore {
    /// A key as stored: what it is, and the digest a presented key is compared with.
    struct StoredKey: Sendable {
        var info: ApiKeyInfo
        var secretHash: String
    }

    /// The key with `id`, or nil.
    static func key(_ id: UUID, on db: any Database) async throws -> ApiKeyInfo? {
        try await ApiKeyRow.find(id, on: db).map(info(from:))
    }

    /// The key whose public prefix is `prefix`, or nil.
    static func key(withPrefix prefix: String, on db: any Database) async throws -> StoredKey? {
        guard let row = try await ApiKeyRow.query(on: db).filter(\.$prefix == prefix).first() else { return nil }
        return StoredKey(info: try info(from: row), secretHash: row.secretHash)
    }

    /// Keys in id order: every key, or only `owner`'s, or only the one with id `only` of theirs.
    static func keys(ownedBy owner: UUID?, only keyID: UUID?, on db: any Database) async throws -> [ApiKeyInfo] {
        var query = ApiKeyRow.query(on: db).sort(\.$id)
        if let owner { query = query.filter(\.$ownerID == owner) }
        if let keyID { query = query.filter(\.$id == keyID) }
        return try await query.all().map(info(from:))
    }

    /// Inserts a new key, never used nor revoked.
    static func insert(
        id: UUID, ownerID: UUID, name: String, prefix: String, secretHash: String, permissions: [String],
        projectID: String?, expiresAt: Date?, at now: Date, on db: any Database
    ) async throws -> ApiKeyInfo {
        let row = ApiKeyRow()
        row.id = id
        row.ownerID = ownerID
        row.name = name
        row.prefix = prefix
        row.secretHash = secretHash
        row.permissions = permissions
        row.projectID = projectID
        row.expiresAt = expiresAt
        row.createdAt = now
        try await row.create(on: db)
        return try info(from: row)
    }

    /// Marks the key revoked.
    static func setRevoked(_ id: UUID, at now: Date, on db: any Database) async throws {
        try await ApiKeyRow.query(on: db).filter(\.$id == id).set(\.$revokedAt, to: now).update()
    }

    /// Revokes every key of the owner's not revoked yet.
    static func revokeAll(ownedBy owner: UUID, at now: Date, on db: any Database) async throws {
        try await ApiKeyRow.query(on: db)
            .filter(\.$ownerID == owner).filter(\.$revokedAt == nil)
            .set(\.$revokedAt, to: now).update()
    }

    /// Records when the key was last used.
    static func setLastUsed(_ id: UUID, at now: Date, on db: any Database) async throws {
        try await ApiKeyRow.query(on: db).filter(\.$id == id).set(\.$lastUsedAt, to: now).update()
    }

    private static func info(from row: ApiKeyRow) throws -> ApiKeyInfo {
        ApiKeyInfo(
            id: try row.requireID(),
            name: row.name,
            prefix: row.prefix,
            permissions: row.permissions,
            projectID: row.projectID,
            ownerID: row.ownerID,
            expiresAt: row.expiresAt,
            lastUsedAt: row.lastUsedAt,
            revokedAt: row.revokedAt,
            createdAt: row.createdAt
        )
    }
}
