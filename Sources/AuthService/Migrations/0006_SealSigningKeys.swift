import FluentKit

/// Signing keys are kept sealed (AES-GCM under `RAHAT_JWT_SEAL_KEY`), no longer as PEM text.
///
/// The keys stored in clear before are dropped, not sealed: every service's database login could
/// read them, so they are treated as exposed. A new key is generated at the next start; access
/// tokens signed with an old one stop verifying within a minute and clients refresh their session
/// (refresh tokens do not depend on the signing key).
struct SealSigningKeys: AsyncMigration {
    var name: String { "auth.0006_SealSigningKeys" }

    func prepare(on database: any Database) async throws {
        try await database.schema("sealed_signing_keys")
            .field("kid", .string, .identifier(auto: false))
            .field("algorithm", .string, .required)
            .field("sealed_key", .string, .required)
            .field("created_at", .datetime, .required)
            .field("retire_at", .datetime)
            .create()
        try await database.schema("signing_keys").delete()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("signing_keys")
            .field("kid", .string, .identifier(auto: false))
            .field("algorithm", .string, .required)
            .field("private_key_pem", .string, .required)
            .field("created_at", .datetime, .required)
            .field("retire_at", .datetime)
            .create()
        try await database.schema("sealed_signing_keys").delete()
    }
}
