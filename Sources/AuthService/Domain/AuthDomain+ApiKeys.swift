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
        let row = ApiKeyRow()
        row.id = UUID.v7(at: now)
        row.ownerID = caller.userID
        row.name = name
        row.prefix = prefix
        row.secretHash = Secrets.digest(key)
        row.permissions = PermissionSet(grants).texts
        row.projectID = projectID
        row.expiresAt = request.expiresAt
        row.createdAt = now
        try await row.create(on: db)
        logger.info("api key created", metadata: ["api_key_id": "\(row.id?.lowercasedString ?? "")"])
        return (try apiKeyInfo(row), key)
    }

    /// The caller's own keys (a key itself only); holders of `api_key:read` see every key.
    func listApiKeys(by caller: Principal) async throws -> [ApiKeyInfo] {
        var query = ApiKeyRow.query(on: db).sort(\.$id)
        if !caller.permissions.allows(Permission(.apiKey, .read)) {
            query = query.filter(\.$ownerID == caller.userID)
            if let keyID = caller.apiKeyID { query = query.filter(\.$id == keyID) }
        }
        return try await query.all().map(apiKeyInfo)
    }

    func getApiKey(_ id: String, by caller: Principal) async throws -> ApiKeyInfo {
        try apiKeyInfo(try await visibleKey(id, caller: caller, needing: .read))
    }

    func revokeApiKey(_ id: String, by caller: Principal) async throws {
        // As creating one: a leaked key must not be able to end the keys that replace it.
        guard caller.method == .password else { throw AuthError.apiKeyCannotManageKeys }
        let row = try await visibleKey(id, caller: caller, needing: .manage)
        guard row.revokedAt == nil else { return }
        let now = self.now()
        row.revokedAt = now
        let keyID = try row.requireID()
        try await database.transaction { tx in
            try await row.save(on: tx)
            try await recordRevocation(.apiKey, subject: keyID, at: now, on: tx)
        }
        logger.info("api key revoked", metadata: ["api_key_id": "\(id)"])
    }

    /// Someone else's key is "not found" unless the caller may see all keys, so ids do not leak.
    /// A key is its own caller's only: one leaked partner key must not list the other keys of
    /// the person who made it.
    private func visibleKey(
        _ id: String, caller: Principal, needing action: Permission.Action
    ) async throws -> ApiKeyRow {
        let keyID = try UUID(id, field: "id")
        guard let row = try await ApiKeyRow.find(keyID, on: db) else { throw AuthError.apiKeyNotFound }
        let owned = row.ownerID == caller.userID && (caller.apiKeyID == nil || caller.apiKeyID == keyID)
        if !owned && !caller.permissions.allows(Permission(.apiKey, action)) {
            throw AuthError.apiKeyNotFound
        }
        return row
    }

    func revokeApiKeys(ofUser userID: UUID, at now: Date, on db: any Database) async throws {
        try await ApiKeyRow.query(on: db)
            .filter(\.$ownerID == userID).filter(\.$revokedAt == nil)
            .set(\.$revokedAt, to: now).update()
    }

    /// Checks a presented key and mints a short-lived access token for it. The key's permissions
    /// are intersected with what its owner holds now, so a demoted owner's keys shrink with them.
    func verifyApiKey(_ key: String) async throws -> VerifiedKey {
        // The secret part is base64url and may itself contain `_`: split at the fixed prefix length.
        guard ApiKeyShape.isWellFormed(key) else { throw AuthError.invalidApiKey }
        let prefix = String(key.prefix(ApiKeyShape.prefixLength))
        guard let row = try await ApiKeyRow.query(on: db).filter(\.$prefix == prefix).first(),
            Secrets.constantTimeEquals(row.secretHash, Secrets.digest(key))
        else {
            throw AuthError.invalidApiKey
        }
        let now = self.now()
        if row.revokedAt != nil { throw AuthError.invalidApiKey }
        if let expiresAt = row.expiresAt, expiresAt <= now { throw AuthError.invalidApiKey }
        guard let owner = try await UserRow.find(row.ownerID, on: db), owner.status == UserStatus.active.rawValue else {
            throw AuthError.invalidApiKey
        }
        let ownerPermissions = try await permissions(ofUser: row.ownerID, on: db)
        let keyID = try row.requireID()
        let granted = row.permissions.compactMap(Permission.init).map {
            Permission($0.subject, $0.action, projectID: row.projectID)
        }
        let effective = PermissionSet(granted.filter(ownerPermissions.allows))

        // Writing on every use would turn reads into writes; a minute's resolution is enough.
        if row.lastUsedAt.map({ now.timeIntervalSince($0) > 60 }) ?? true {
            try await ApiKeyRow.query(on: db).filter(\.$id == keyID).set(\.$lastUsedAt, to: now).update()
        }
        let ttl = configuration.apiKeyTokenTTL
        let claims = AccessTokenClaims(
            sub: row.ownerID.lowercasedString,
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

    private func apiKeyInfo(_ row: ApiKeyRow) throws -> ApiKeyInfo {
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
