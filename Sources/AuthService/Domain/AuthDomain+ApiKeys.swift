import FluentKit
import Foundation
import Persistence
import ServerKit
import SharedModels
import TokenVerification

/// A request to create an API key.
struct NewApiKey: Sendable {
    var name: String
    var permissions: [String]
    var projectID: String?
    var expiresAt: Date?
}

/// What a verified API key stands for.
struct VerifiedKey: Sendable {
    var principal: AuthDomain.PrincipalInfo
    var accessToken: String
    var expiresIn: Duration
}

extension AuthDomain {
    /// Keys look like `rhk_<8 hex>_<43 base64url>` (`ApiKeyShape`): the prefix finds the row,
    /// the whole key is compared by digest.
    static let apiKeyScheme = ApiKeyShape.scheme

    func createApiKey(_ request: NewApiKey, by caller: Principal) async throws -> (ApiKeyInfo, String) {
        guard caller.method == .password else { throw AuthError.apiKeyCannotManageKeys }
        var violations: [FieldViolation] = []
        let name = InputValidation.name(request.name, into: &violations)
        if request.permissions.isEmpty {
            violations.append(FieldViolation(field: "permissions", reason: "must not be empty"))
        }
        if request.permissions.count > Self.maxPermissionsPerRole {
            violations.append(
                FieldViolation(field: "permissions", reason: "must have at most \(Self.maxPermissionsPerRole) entries"))
        }
        let grants = Self.parsePermissions(request.permissions, field: "permissions", into: &violations)
        var projectID: String?
        if let project = request.projectID {
            projectID = UUID(project, field: "projectId", into: &violations)?.lowercasedString
        }
        let now = self.now()
        if let expiresAt = request.expiresAt, expiresAt <= now {
            violations.append(FieldViolation(field: "expiresAt", reason: "must be in the future"))
        }
        guard violations.isEmpty else { throw AuthError.invalidInput(violations) }
        let effective = PermissionSet(grants.map { Permission($0.subject, $0.action, projectID: projectID) })
        guard caller.permissions.covers(effective) else {
            throw AuthError.permissionDenied("An API key can only carry permissions you hold yourself.")
        }

        let prefix = Self.apiKeyScheme + String(Secrets.digest(Secrets.randomToken()).prefix(8))
        let key = prefix + "_" + Secrets.randomToken()
        let info = try await ApiKeyStore.insert(
            id: UUID.v7(at: now), ownerID: caller.userID, name: name, prefix: prefix, secretHash: Secrets.digest(key),
            permissions: PermissionSet(grants).texts, projectID: projectID, expiresAt: request.expiresAt, at: now,
            on: db)
        logger.info("api key created", metadata: ["api_key_id": "\(info.id.lowercasedString)"])
        return (info, key)
    }

    /// The caller's own keys (a key itself only); holders of `api_key:read` see every key.
    func listApiKeys(by caller: Principal) async throws -> [ApiKeyInfo] {
        let everyone = caller.permissions.allows(Permission(.apiKey, .read))
        return try await database.replicaRead { db in
            everyone
                ? try await ApiKeyStore.keys(ownedBy: nil, only: nil, on: db)
                : try await ApiKeyStore.keys(ownedBy: caller.userID, only: caller.apiKeyID, on: db)
        }
    }

    func getApiKey(_ id: String, by caller: Principal) async throws -> ApiKeyInfo {
        try await visibleKey(id, caller: caller, needing: .read)
    }

    func revokeApiKey(_ id: String, by caller: Principal) async throws {
        // As creating one: a leaked key must not be able to end the keys that replace it.
        guard caller.method == .password else { throw AuthError.apiKeyCannotManageKeys }
        let key = try await visibleKey(id, caller: caller, needing: .manage)
        guard key.revokedAt == nil else { return }
        let now = self.now()
        let keyID = key.id
        try await database.sqlTransaction { tx in
            try await ApiKeyStore.setRevoked(keyID, at: now, on: tx)
            try await recordRevocation(.apiKey, subject: keyID, at: now, on: tx)
        }
        logger.info("api key revoked", metadata: ["api_key_id": "\(id)"])
    }

    /// Someone else's key is "not found" unless the caller may see all keys, so ids do not leak.
    /// A key is its own caller's only: one leaked partner key must not list the other keys of
    /// the person who made it.
    private func visibleKey(
        _ id: String, caller: Principal, needing action: Permission.Action
    ) async throws -> ApiKeyInfo {
        let keyID = try UUID(id, field: "id")
        guard let key = try await ApiKeyStore.key(keyID, on: db) else { throw AuthError.apiKeyNotFound }
        let owned = key.ownerID == caller.userID && (caller.apiKeyID == nil || caller.apiKeyID == keyID)
        if !owned && !caller.permissions.allows(Permission(.apiKey, action)) {
            throw AuthError.apiKeyNotFound
        }
        return key
    }

    func revokeApiKeys(ofUser userID: UUID, at now: Date, on db: any Database) async throws {
        try await ApiKeyStore.revokeAll(ownedBy: userID, at: now, on: db)
    }

    /// Checks a presented key and mints a short-lived access token for it. The key's permissions
    /// are intersected with what its owner holds now, so a demoted owner's keys shrink with them.
    func verifyApiKey(_ key: String) async throws -> VerifiedKey {
        // The secret part is base64url and may itself contain `_`: split at the fixed prefix length.
        guard ApiKeyShape.isWellFormed(key) else { throw AuthError.invalidApiKey }
        let prefix = String(key.prefix(ApiKeyShape.prefixLength))
        guard let stored = try await ApiKeyStore.key(withPrefix: prefix, on: db),
            Secrets.constantTimeEquals(stored.secretHash, Secrets.digest(key))
        else {
            throw AuthError.invalidApiKey
        }
        let apiKey = stored.info
        let now = self.now()
        if apiKey.revokedAt != nil { throw AuthError.invalidApiKey }
        if let expiresAt = apiKey.expiresAt, expiresAt <= now { throw AuthError.invalidApiKey }
        guard let owner = try await UserStore.user(apiKey.ownerID, on: db), owner.isActive else {
            throw AuthError.invalidApiKey
        }
        let ownerPermissions = try await permissions(ofUser: apiKey.ownerID, on: db)
        let keyID = apiKey.id
        let granted = apiKey.permissions.compactMap(Permission.init).map {
            Permission($0.subject, $0.action, projectID: apiKey.projectID)
        }
        let effective = PermissionSet(granted.filter(ownerPermissions.allows))

        // Writing on every use would turn reads into writes; a minute's resolution is enough.
        if apiKey.lastUsedAt.map({ now.timeIntervalSince($0) > 60 }) ?? true {
            try await ApiKeyStore.setLastUsed(keyID, at: now, on: db)
        }
        let ttl = configuration.apiKeyTokenTTL
        let claims = AccessTokenClaims(
            sub: apiKey.ownerID.lowercasedString,
            issuedAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(ttl.components.seconds)),
            id: UUID.v7(at: now).lowercasedString,
            sessionID: nil,
            method: "api_key",
            apiKeyID: keyID.lowercasedString,
            permissions: effective.texts
        )
        let token = try await signingKeys.sign(claims)
        return VerifiedKey(
            principal: PrincipalInfo(
                user: try await userInfo(owner, on: db),
                permissions: effective,
                method: .apiKey,
                apiKeyID: keyID
            ),
            accessToken: token,
            expiresIn: ttl
        )
    }
}
