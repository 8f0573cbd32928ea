import FluentKit
import Foundation

final class UserRow: Model, @unchecked Sendable {
    static let schema = "users"

    @ID(custom: "id", generatedBy: .user) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "email") var email: String
    @OptionalField(key: "phone") var phone: String?
    @Field(key: "status") var status: String
    @OptionalField(key: "password_hash") var passwordHash: String?
    @OptionalField(key: "locale") var locale: String?
    @OptionalField(key: "time_zone") var timeZone: String?
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    init() {}
}

final class RoleRow: Model, @unchecked Sendable {
    static let schema = "roles"

    @ID(custom: "name", generatedBy: .user) var id: String?
    @OptionalField(key: "description") var roleDescription: String?
    @Field(key: "built_in") var builtIn: Bool
    @Field(key: "permissions") var permissions: [String]
    @Field(key: "created_at") var createdAt: Date

    init() {}
}

final class UserRoleRow: Model, @unchecked Sendable {
    static let schema = "user_roles"

    @ID(custom: "id", generatedBy: .user) var id: UUID?
    @Field(key: "user_id") var userID: UUID
    @Field(key: "role_name") var roleName: String
    @OptionalField(key: "project_id") var projectID: String?
    @Field(key: "created_at") var createdAt: Date

    init() {}
}

final class RefreshTokenRow: Model, @unchecked Sendable {
    static let schema = "refresh_tokens"

    @ID(custom: "id", generatedBy: .user) var id: UUID?
    @Field(key: "family_id") var familyID: UUID
    @Field(key: "user_id") var userID: UUID
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "expires_at") var expiresAt: Date
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "used_at") var usedAt: Date?
    @OptionalField(key: "revoked_at") var revokedAt: Date?

    init() {}
}

final class ApiKeyRow: Model, @unchecked Sendable {
    static let schema = "api_keys"

    @ID(custom: "id", generatedBy: .user) var id: UUID?
    @Field(key: "owner_id") var ownerID: UUID
    @Field(key: "name") var name: String
    @Field(key: "prefix") var prefix: String
    @Field(key: "secret_hash") var secretHash: String
    @Field(key: "permissions") var permissions: [String]
    @OptionalField(key: "project_id") var projectID: String?
    @OptionalField(key: "expires_at") var expiresAt: Date?
    @OptionalField(key: "last_used_at") var lastUsedAt: Date?
    @OptionalField(key: "revoked_at") var revokedAt: Date?
    @Field(key: "created_at") var createdAt: Date

    init() {}
}

final class SigningKeyRow: Model, @unchecked Sendable {
    static let schema = "sealed_signing_keys"

    @ID(custom: "kid", generatedBy: .user) var id: String?
    @Field(key: "algorithm") var algorithm: String
    /// The private key's PEM, sealed with AES-GCM (combined form, base64) and bound to the kid.
    @Field(key: "sealed_key") var sealedKey: String
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "retire_at") var retireAt: Date?

    init() {}
}

final class LoginAttemptRow: Model, @unchecked Sendable {
    static let schema = "login_attempts"

    @ID(custom: "id", generatedBy: .user) var id: UUID?
    @Field(key: "email") var email: String
    @OptionalField(key: "ip") var ip: String?
    @Field(key: "succeeded") var succeeded: Bool
    @Field(key: "attempted_at") var attemptedAt: Date

    init() {}
}
