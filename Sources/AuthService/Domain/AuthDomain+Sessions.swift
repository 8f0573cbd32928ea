import FluentKit
import Foundation
import SQLKit
import ServerKit
import SharedModels

/// Login throttling numbers from DOMAIN.md.
enum LoginLimits {
    static let failuresPerIP = 10
    static let ipWindow: TimeInterval = 5 * 60
    static let failuresPerAccount = 20
    static let accountWindow: TimeInterval = 15 * 60
    static let lockAfterConsecutiveFailures = 5
    static let lockDuration: TimeInterval = 15 * 60
}

extension AuthDomain {
    // MARK: Login

    func login(email rawEmail: String, password: String, clientIP: String?) async throws -> IssuedTokens {
        var violations: [FieldViolation] = []
        let email = InputValidation.email(rawEmail, into: &violations)
        if password.isEmpty { violations.append(FieldViolation(field: "password", reason: "is required")) }
        if password.utf8.count > 1024 { violations.append(FieldViolation(field: "password", reason: "is too long")) }
        guard violations.isEmpty else { throw AuthError.invalidInput(violations) }

        let now = self.now()
        try await checkThrottle(email: email, clientIP: clientIP, now: now)

        let user = try await UserRow.query(on: db).filter(\.$email == email).first()
        if let user, let lockedUntil = user.lockedUntil, lockedUntil > now {
            throw AuthError.accountLocked(retryAfterSeconds: Self.secondsUntil(lockedUntil, from: now))
        }
        let verified: Bool
        if let hash = user?.passwordHash {
            verified = try await hasher.verify(password, against: hash)
        } else {
            _ = try await hasher.verify(password, against: hasher.decoyHash)
            verified = false
        }
        try await recordAttempt(email: email, clientIP: clientIP, succeeded: verified, at: now)

        guard let user, verified else {
            if let user { try await registerFailure(of: user, at: now) }
            throw AuthError.invalidCredentials
        }
        if user.failedStreak != 0 || user.lockedUntil != nil {
            user.failedStreak = 0
            user.lockedUntil = nil
            try await user.save(on: db)
        }
        guard user.status == UserStatus.active.rawValue else { throw AuthError.accountDisabled }
        let userID = try user.requireID()
        logger.info("login succeeded", metadata: ["user_id": "\(userID.lowercasedString)"])
        return try await startSession(userID: userID, now: now)
    }

    private func checkThrottle(email: String, clientIP: String?, now: Date) async throws {
        if let clientIP {
            let since = now.addingTimeInterval(-LoginLimits.ipWindow)
            let failures = try await LoginAttemptRow.query(on: db)
                .filter(\.$ip == clientIP).filter(\.$succeeded == false).filter(\.$attemptedAt > since)
                .sort(\.$attemptedAt, .descending).limit(LoginLimits.failuresPerIP).all()
            if failures.count >= LoginLimits.failuresPerIP, let oldest = failures.last {
                let until = oldest.attemptedAt.addingTimeInterval(LoginLimits.ipWindow)
                throw AuthError.tooManyAttempts(retryAfterSeconds: Self.secondsUntil(until, from: now))
            }
        }
        let since = now.addingTimeInterval(-LoginLimits.accountWindow)
        let failures = try await LoginAttemptRow.query(on: db)
            .filter(\.$email == email).filter(\.$succeeded == false).filter(\.$attemptedAt > since)
            .sort(\.$attemptedAt, .descending).limit(LoginLimits.failuresPerAccount).all()
        if failures.count >= LoginLimits.failuresPerAccount, let oldest = failures.last {
            let until = oldest.attemptedAt.addingTimeInterval(LoginLimits.accountWindow)
            throw AuthError.tooManyAttempts(retryAfterSeconds: Self.secondsUntil(until, from: now))
        }
    }

    private func recordAttempt(email: String, clientIP: String?, succeeded: Bool, at now: Date) async throws {
        let attempt = LoginAttemptRow()
        attempt.id = UUID.v7(at: now)
        attempt.email = email
        attempt.ip = clientIP
        attempt.succeeded = succeeded
        attempt.attemptedAt = now
        try await attempt.create(on: db)
        // Attempts only matter inside the longest window; keep the table small as a side effect of use.
        if Int.random(in: 0..<100) == 0 {
            try await LoginAttemptRow.query(on: db).filter(\.$attemptedAt < now.addingTimeInterval(-86_400)).delete()
        }
    }

    private func registerFailure(of user: UserRow, at now: Date) async throws {
        user.failedStreak += 1
        if user.failedStreak >= LoginLimits.lockAfterConsecutiveFailures {
            user.failedStreak = 0
            user.lockedUntil = now.addingTimeInterval(LoginLimits.lockDuration)
            logger.warning(
                "account locked after repeated failures", metadata: ["user_id": "\(user.id?.lowercasedString ?? "")"])
        }
        try await user.save(on: db)
    }

    static func secondsUntil(_ date: Date, from now: Date) -> Int {
        max(1, Int(date.timeIntervalSince(now).rounded(.up)))
    }

    // MARK: Sessions

    private func startSession(userID: UUID, now: Date) async throws -> IssuedTokens {
        let family = UUID.v7(at: now)
        let refresh = try await insertRefreshToken(userID: userID, family: family, now: now, on: db)
        return try await issue(userID: userID, family: family, refreshToken: refresh, now: now)
    }

    private func insertRefreshToken(userID: UUID, family: UUID, now: Date, on db: any Database) async throws -> String {
        let token = "rt_" + Secrets.randomToken()
        let row = RefreshTokenRow()
        row.id = UUID.v7(at: now)
        row.familyID = family
        row.userID = userID
        row.tokenHash = Secrets.digest(token)
        row.createdAt = now
        row.expiresAt = now.addingTimeInterval(TimeInterval(configuration.refreshTokenTTL.components.seconds))
        try await row.create(on: db)
        return token
    }

    private func issue(userID: UUID, family: UUID, refreshToken: String, now: Date) async throws -> IssuedTokens {
        let permissions = try await permissions(ofUser: userID, on: db)
        let claims = AccessTokenClaims(
            sub: userID.lowercasedString,
            issuedAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(configuration.accessTokenTTL.components.seconds)),
            id: UUID.v7(at: now).lowercasedString,
            sessionID: family.lowercasedString,
            method: "pwd",
            apiKeyID: nil,
            permissions: permissions.texts
        )
        return IssuedTokens(
            accessToken: try await signingKeys.sign(claims),
            accessExpiresIn: configuration.accessTokenTTL,
            refreshToken: refreshToken,
            refreshExpiresIn: configuration.refreshTokenTTL
        )
    }

    /// Rotates a refresh token. A token that was already rotated or revoked is evidence of theft:
    /// the whole family is revoked, so neither the thief nor the victim can continue the session.
    func refresh(token: String) async throws -> IssuedTokens {
        guard !token.isEmpty else {
            throw AuthError.invalidInput([FieldViolation(field: "refreshToken", reason: "is required")])
        }
        let now = self.now()
        let digest = Secrets.digest(token)
        guard let row = try await RefreshTokenRow.query(on: db).filter(\.$tokenHash == digest).first() else {
            throw AuthError.invalidRefreshToken
        }
        if row.usedAt != nil || row.revokedAt != nil {
            if row.usedAt != nil {
                try await revokeFamily(row.familyID, at: now)
                logger.warning(
                    "refresh token reused; session revoked",
                    metadata: ["session_id": "\(row.familyID.lowercasedString)"])
                throw AuthError.refreshTokenReused
            }
            throw AuthError.invalidRefreshToken
        }
        guard row.expiresAt > now else { throw AuthError.invalidRefreshToken }
        guard let user = try await UserRow.find(row.userID, on: db), user.status == UserStatus.active.rawValue else {
            throw AuthError.invalidRefreshToken
        }
        let rowID = try row.requireID()
        let family = row.familyID
        let userID = row.userID
        let newToken: String? = try await db.transaction { tx in
            // Claim the token atomically: of two concurrent refreshes only one updates the row.
            guard let sql = tx as? any SQLDatabase else { return nil }
            let claimed = try await sql.update(RefreshTokenRow.schema)
                .set("used_at", to: SQLBind(now))
                .where("id", .equal, SQLBind(rowID))
                .where("used_at", .is, SQLLiteral.null)
                .where("revoked_at", .is, SQLLiteral.null)
                .returning("id")
                .all()
            guard !claimed.isEmpty else { return nil }
            return try await insertRefreshToken(userID: userID, family: family, now: now, on: tx)
        }
        guard let newToken else {
            try await revokeFamily(family, at: now)
            throw AuthError.refreshTokenReused
        }
        return try await issue(userID: userID, family: family, refreshToken: newToken, now: now)
    }

    /// Ends the session the refresh token belongs to. Only its owner may end it.
    func logout(token: String, caller: Principal) async throws {
        guard !token.isEmpty else {
            throw AuthError.invalidInput([FieldViolation(field: "refreshToken", reason: "is required")])
        }
        let digest = Secrets.digest(token)
        guard let row = try await RefreshTokenRow.query(on: db).filter(\.$tokenHash == digest).first(),
            row.userID == caller.userID
        else {
            throw AuthError.invalidRefreshToken
        }
        try await revokeFamily(row.familyID, at: now())
    }

    func revokeFamily(_ family: UUID, at now: Date, on db: (any Database)? = nil) async throws {
        try await RefreshTokenRow.query(on: db ?? self.db)
            .filter(\.$familyID == family).filter(\.$revokedAt == nil)
            .set(\.$revokedAt, to: now).update()
    }

    /// Revokes every session of a user, e.g. when the account is disabled or its password changes.
    func revokeSessions(ofUser userID: UUID, at now: Date, on db: any Database) async throws {
        try await RefreshTokenRow.query(on: db)
            .filter(\.$userID == userID).filter(\.$revokedAt == nil)
            .set(\.$revokedAt, to: now).update()
    }

    // MARK: Principal

    struct PrincipalInfo: Sendable {
        var user: UserInfo
        var permissions: PermissionSet
        var method: Principal.Method
        var apiKeyID: UUID?
    }

    /// Describes the caller (`GET /v1/auth/me`).
    func describe(_ principal: Principal) async throws -> PrincipalInfo {
        guard let row = try await UserRow.find(principal.userID, on: db) else { throw AuthError.userNotFound }
        return PrincipalInfo(
            user: try await userInfo(row, on: db),
            permissions: principal.permissions,
            method: principal.method,
            apiKeyID: principal.apiKeyID
        )
    }
}
