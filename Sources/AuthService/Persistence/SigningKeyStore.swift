import FluentKit
import Foundation

/// Access-token signing keys as stored, sealed, and every statement that reads or changes them.
enum SigningKeyStore {
    /// A signing key as stored: its private key sealed (`SigningKeySeal`) and bound to its kid.
    struct SealedKey: Sendable {
        var kid: String
        var algorithm: String
        var sealedKey: String
        var createdAt: Date
        var retireAt: Date?
    }

    /// Every stored key, retired ones too.
    static func keys(on db: any Database) async throws -> [SealedKey] {
        try await SigningKeyRow.query(on: db).all().map { row in
            SealedKey(
                kid: try row.requireID(), algorithm: row.algorithm, sealedKey: row.sealedKey, createdAt: row.createdAt,
                retireAt: row.retireAt)
        }
    }

    /// Inserts a new key, not scheduled to retire.
    static func insert(
        kid: String, algorithm: String, sealedKey: String, at now: Date, on db: any Database
    ) async throws {
        let row = SigningKeyRow()
        row.id = kid
        row.algorithm = algorithm
        row.sealedKey = sealedKey
        row.createdAt = now
        try await row.create(on: db)
    }

    /// Schedules the key to stop being published at `retireAt`.
    static func retire(_ kid: String, at retireAt: Date, on db: any Database) async throws {
        try await SigningKeyRow.query(on: db).filter(\.$id == kid).set(\.$retireAt, to: retireAt).update()
    }
}
