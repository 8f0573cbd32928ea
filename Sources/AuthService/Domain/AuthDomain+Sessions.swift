import FluentKit
import Foundation
import Persistence
import SQLKit
import ServerKit
import SharedModels
import TokenVerification

/// Login throttling numbers (docs/architecture.md, "Login throttling"), and how long an address
/// an account signed in from stays one it is known at.
enum LoginLimits {
    static let failuresPerIP = 10
    static let ipWindow: TimeInterval = 5 * 60
    static let failuresPerAccount = 20
    static let accountWindow: TimeInterval = 15 * 60
    static let lockAfterConsecutiveFailures = 5
    static let lockDuration: TimeInterval = 15 * 60
    static let knownAddressWindow: TimeInterval = 30 * 24 * 3_600
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
        // The attempt is recorded before it is judged, as a failure until proven otherwise, so
        // concurrent attempts see each other and a burst cannot slip past the limits while bcrypt
        // runs. A refused attempt is removed again: refusals do not extend a lock or throttle.
        let attempt = try await insertAttempt(email: email, clientIP: clientIP, at: now)
        do {
            try await checkLimits(email: email, clientIP: clientIP, excluding: attempt, now: now)
        } catch {
            try await SessionStore.deleteAttempt(attempt, on: db)
            throw error
        }

        let user = try await UserStore.user(withEmail: email, on: db)
        let verified: Bool
        do {
            if let hash = user?.passwordHash {
                verified = try await hasher.verify(password, against: hash)
            } else {
                _ = try await hasher.verify(password, against: hasher.decoyHash)
                verified = false
            }
        } catch {
            // No verdict on the password (refused as busy before hashing): no attempt was made.
            try await SessionStore.deleteAttempt(attempt, on: db)
            throw error
        }
        guard let user, verified else { throw AuthError.invalidCredentials }
        try await SessionStore.markSucceeded(attempt: attempt, on: db)
        guard user.isActive else { throw AuthError.accountDisabled }
        let userID = user.id
        logger.info("login succeeded", metadata: ["user_id": "\(userID.lowercasedString)"])
        return try await startSession(userID: userID, now: now)
    }

    /// The sign-in limits (docs/security.md, "What protects what"), judged from recorded attempts. They apply to unknown emails
    /// exactly as to real accounts, so the answers do not reveal which emails have accounts.
    ///
    /// So that a stranger who knows an email cannot keep its owner out, the account's lock and
    /// budget bind the addresses it is not known at; at an address it signed in from within
    /// ``LoginLimits/knownAddressWindow``, only failures from that address lock it.
    private func checkLimits(email: String, clientIP: String?, excluding own: UUID, now: Date) async throws {
        if let clientIP {
            let failures = try await recentFailures(
                of: .address(clientIP), within: LoginLimits.ipWindow, excluding: own, now: now
            ).prefix(LoginLimits.failuresPerIP)
            if failures.count >= LoginLimits.failuresPerIP, let oldest = failures.last {
                let until = oldest.attemptedAt.addingTimeInterval(LoginLimits.ipWindow)
                throw AuthError.tooManyAttempts(retryAfterSeconds: Self.secondsUntil(until, from: now))
            }
        }
        let known = try await isKnownAddress(clientIP, of: email, now: now)
        let since = now.addingTimeInterval(-LoginLimits.lockDuration)
        let recent = try await SessionStore.latestAttempts(
            email: email, from: known ? clientIP : nil, after: since, excluding: own,
            limit: LoginLimits.lockAfterConsecutiveFailures, on: db)
        if recent.count == LoginLimits.lockAfterConsecutiveFailures, recent.allSatisfy({ !$0.succeeded }),
            let newest = recent.first
        {
            let until = newest.attemptedAt.addingTimeInterval(LoginLimits.lockDuration)
            throw AuthError.accountLocked(retryAfterSeconds: Self.secondsUntil(until, from: now))
        }
        guard !known else { return }
        let failures = try await recentFailures(
            of: .email(email), within: LoginLimits.accountWindow, excluding: own, now: now
        ).prefix(LoginLimits.failuresPerAccount)
        if failures.count >= LoginLimits.failuresPerAccount, let oldest = failures.last {
            let until = oldest.attemptedAt.addingTimeInterval(LoginLimits.accountWindow)
            throw AuthError.tooManyAttempts(retryAfterSeconds: Self.secondsUntil(until, from: now))
        }
    }

    /// Whether `email` signed in from `clientIP` lately: its owner's own address, most likely.
    private func isKnownAddress(_ clientIP: String?, of email: String, now: Date) async throws -> Bool {
        guard let clientIP else { return false }
        return try await SessionStore.hasSucceeded(
            email: email, from: clientIP, after: now.addingTimeInterval(-LoginLimits.knownAddressWindow), on: db)
    }

    /// Failed attempts of one client address or one email inside the window, newest first.
    private func recentFailures(
        of whose: SessionStore.AttemptsOf,
        within window: TimeInterval,
        excluding own: UUID,
        now: Date
    ) async throws -> [SessionStore.LoginAttempt] {
        try await SessionStore.failures(
            of: whose, after: now.addingTimeInterval(-window), excluding: own,
            limit: max(LoginLimits.failuresPerIP, LoginLimits.failuresPerAccount), on: db)
    }

    /// Records an attempt as failed; its id.
    private func insertAttempt(email: String, clientIP: String?, at now: Date) async throws -> UUID {
        let id = UUID.v7(at: now)
        try await SessionStore.insertAttempt(id: id, email: email, clientIP: clientIP, at: now, on: db)
        // Attempts only matter inside the longest window; keep the table small as a side effect of use.
        if Int.random(in: 0..<100) == 0 {
            try await SessionStore.deleteAttempts(before: now.addingTimeInterval(-86_400), on: db)
        }
        return id
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
        try await SessionStore.insertRefreshToken(
            id: UUID.v7(at: now), family: family, userID: userID, tokenHash: Secrets.digest(token),
            expiresAt: now.addingTimeInterval(TimeInterval(configuration.refreshTokenTTL.components.seconds)), at: now,
            on: db)
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
        guard let stored = try await SessionStore.refreshToken(withHash: digest, on: db) else {
            throw AuthError.invalidRefreshToken
        }
        if stored.usedAt != nil || stored.revokedAt != nil {
            if stored.usedAt != nil {
                try await revokeFamily(stored.familyID, at: now)
                logger.warning(
                    "refresh token reused; session revoked",
                    metadata: ["session_id": "\(stored.familyID.lowercasedString)"])
                throw AuthError.refreshTokenReused
            }
            throw AuthError.invalidRefreshToken
        }
        guard stored.expiresAt > now else { throw AuthError.invalidRefreshToken }
        // A session's id is a v7 UUID made at sign-in: refreshing keeps it alive only so long.
        let maxLifetime = TimeInterval(configuration.sessionMaxLifetime.components.seconds)
        if let signedIn = stored.familyID.v7Date, now.timeIntervalSince(signedIn) >= maxLifetime {
            try await revokeFamily(stored.familyID, at: now)
            throw AuthError.invalidRefreshToken
        }
        guard let user = try await UserStore.user(stored.userID, on: db), user.isActive else {
            throw AuthError.invalidRefreshToken
        }
        let tokenID = stored.id
        let family = stored.familyID
        let userID = stored.userID
        let newToken: String? = try await database.sqlTransaction { tx in
            // Claim the token atomically: of two concurrent refreshes only one updates the row.
            guard try await SessionStore.claimRefreshToken(tokenID, at: now, on: tx) else { return nil }
            return try await insertRefreshToken(userID: userID, family: family, now: now, on: tx)
        }
        guard let newToken else {
            try await revokeFamily(family, at: now)
            throw AuthError.refreshTokenReused
        }
        // A logout or a reuse detected while this refresh ran revoked the family's existing rows
        // but could not see the row just inserted: look again, now that it is committed.
        if try await SessionStore.isFamilyRevoked(family, on: db) {
            try await revokeFamily(family, at: now)
            throw AuthError.invalidRefreshToken
        }
        return try await issue(userID: userID, family: family, refreshToken: newToken, now: now)
    }

    /// Ends the session the refresh token belongs to. Only its owner may end it.
    func logout(token: String, caller: Principal) async throws {
        guard !token.isEmpty else {
            throw AuthError.invalidInput([FieldViolation(field: "refreshToken", reason: "is required")])
        }
        let digest = Secrets.digest(token)
        guard let stored = try await SessionStore.refreshToken(withHash: digest, on: db),
            stored.userID == caller.userID
        else {
            throw AuthError.invalidRefreshToken
        }
        try await revokeFamily(stored.familyID, at: now())
    }

    /// Ends a session: its refresh tokens now, its access tokens at every gateway within a second.
    func revokeFamily(_ family: UUID, at now: Date) async throws {
        try await SessionStore.revokeFamily(family, at: now, on: db)
        try await recordRevocation(.session, subject: family, at: now, on: sql)
    }

    /// Revokes every session of a user, e.g. when the account is disabled or its password changes;
    /// every access token issued to the user until now is refused as well.
    func revokeSessions(ofUser userID: UUID, at now: Date, on db: any SQLDatabase & Database) async throws {
        try await SessionStore.revokeAll(ofUser: userID, at: now, on: db)
        try await recordRevocation(.user, subject: userID, at: now, on: db)
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
        guard let user = try await UserStore.user(principal.userID, on: db) else { throw AuthError.userNotFound }
        return PrincipalInfo(
            user: try await userInfo(user, on: db),
            permissions: principal.permissions,
            method: principal.method,
            apiKeyID: principal.apiKeyID
        )
    }
}
