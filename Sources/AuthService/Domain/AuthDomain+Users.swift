import FluentKit
import Foundation
import Persistence
import ServerKit
import SharedModels

/// A request to create a user, as received.
struct NewUser: Sendable {
    var name: String
    var email: String
    var password: String
    var phone: String?
    var roles: [RoleAssignment]
}

/// Changes to a user; `nil` leaves a field as it is.
struct UserChanges: Sendable {
    var name: String?
    var phone: String?
    var isActive: Bool?
    var password: String?
    /// The present password, which users must give to change their own.
    var currentPassword: String?
    /// A BCP 47 language tag; empty removes it.
    var locale: String? = nil
    /// An IANA time zone; empty removes it.
    var timeZone: String? = nil
}

extension AuthDomain {
    static let maxRolesPerUser = 50

    func createUser(_ request: NewUser, by caller: Principal) async throws -> UserInfo {
        try caller.require(Permission(.user, .create))
        var violations: [FieldViolation] = []
        let name = InputValidation.name(request.name, into: &violations)
        let email = InputValidation.email(request.email, into: &violations)
        let phone = request.phone.map { InputValidation.phone($0, into: &violations) }
        violations += PasswordPolicy.check(request.password, email: email)
        let roles = try await validateAssignments(request.roles, into: &violations)
        guard violations.isEmpty else { throw AuthError.invalidInput(violations) }
        try await requireMayGrant(roles, caller: caller)

        if try await UserStore.user(withEmail: email, on: db) != nil { throw AuthError.emailTaken }
        let hash = try await hasher.hash(request.password)
        let now = self.now()
        let userID = UUID.v7(at: now)
        let user: UserStore.StoredUser
        do {
            user = try await database.transaction { tx in
                let user = try await UserStore.insert(
                    id: userID, name: name, email: email, phone: phone, passwordHash: hash, at: now, on: tx)
                try await RoleStore.assign(roles, to: userID, at: now, on: tx)
                return user
            }
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // Lost a race with a concurrent create of the same email.
            throw AuthError.emailTaken
        }
        logger.info("user created", metadata: ["user_id": "\(userID.lowercasedString)"])
        return try await userInfo(user, on: db)
    }

    func getUser(_ id: String, by caller: Principal) async throws -> UserInfo {
        let userID = try parseUserID(id)
        if userID != caller.userID { try caller.require(Permission(.user, .read)) }
        guard let user = try await UserStore.user(userID, on: db) else { throw AuthError.userNotFound }
        return try await userInfo(user, on: db)
    }

    func listUsers(
        limit: Int, cursor: String?, active: Bool?, by caller: Principal
    ) async throws -> (
        [UserInfo], String?
    ) {
        try caller.require(Permission(.user, .read))
        let page = try PageRequest<UUID>.validate(limit: limit, cursor: cursor).get()
        let status = active.map { $0 ? UserStatus.active : UserStatus.disabled }
        return try await database.replicaRead { db in
            let found = try await UserStore.users(after: page.after, status: status, limit: limit + 1, on: db)
            let (users, next) = page.page(of: found) { $0.id }
            return (try await userInfos(users, on: db), next)
        }
    }

    /// Users edit their own profile and password (proving the present one) from a password
    /// session; changing anyone else needs `user:update` and everything the target holds, so a
    /// helpdesk role cannot take over an admin. API keys never change credentials.
    func updateUser(_ id: String, changes: UserChanges, by caller: Principal) async throws -> UserInfo {
        let userID = try parseUserID(id)
        let isSelf = userID == caller.userID
        if caller.method != .password {
            throw AuthError.permissionDenied("Users can only be changed from a session logged in with a password.")
        }
        if !isSelf || changes.isActive != nil {
            try caller.require(Permission(.user, .update))
            try await requireCoversUser(userID, caller: caller)
        }
        guard var user = try await UserStore.user(userID, on: db) else { throw AuthError.userNotFound }
        var violations: [FieldViolation] = []
        if isSelf, changes.password != nil {
            guard let current = changes.currentPassword, !current.isEmpty else {
                throw AuthError.invalidInput([
                    FieldViolation(field: "currentPassword", reason: "is required to change your own password")
                ])
            }
            guard let hash = user.passwordHash, try await hasher.verify(current, against: hash) else {
                throw AuthError.invalidInput([
                    FieldViolation(field: "currentPassword", reason: "is not your present password")
                ])
            }
        }
        var write = UserStore.Changes()
        if let name = changes.name { write.name = InputValidation.name(name, into: &violations) }
        if let phone = changes.phone {
            write.phone = .some(phone.isEmpty ? nil : InputValidation.phone(phone, into: &violations))
        }
        if let password = changes.password { violations += PasswordPolicy.check(password, email: user.email) }
        if let locale = changes.locale {
            write.locale = .some(locale.isEmpty ? nil : InputValidation.locale(locale, into: &violations))
        }
        if let timeZone = changes.timeZone {
            write.timeZone = .some(timeZone.isEmpty ? nil : InputValidation.timeZone(timeZone, into: &violations))
        }
        if changes.isActive == false, isSelf {
            violations.append(FieldViolation(field: "status", reason: "you cannot disable your own account"))
        }
        guard violations.isEmpty else { throw AuthError.invalidInput(violations) }
        let now = self.now()
        if let password = changes.password { write.passwordHash = try await hasher.hash(password) }
        if let active = changes.isActive { write.status = active ? .active : .disabled }
        try await database.sqlTransaction { [write] tx in
            try await UserStore.apply(write, to: userID, at: now, on: tx)
            // A new password or a disabled account ends every existing session.
            if changes.password != nil || changes.isActive == false {
                try await revokeSessions(ofUser: userID, at: now, on: tx)
            }
            if changes.isActive == false {
                try await revokeApiKeys(ofUser: userID, at: now, on: tx)
            }
        }
        user.apply(write, at: now)
        return try await userInfo(user, on: db)
    }

    /// Disables a user and revokes its sessions and API keys. Users are never erased: audit records
    /// and ledger transfers refer to them.
    func deleteUser(_ id: String, by caller: Principal) async throws {
        try caller.require(Permission(.user, .delete))
        let userID = try parseUserID(id)
        guard userID != caller.userID else { throw AuthError.cannotDeleteSelf }
        guard try await UserStore.user(userID, on: db) != nil else { throw AuthError.userNotFound }
        try await requireCoversUser(userID, caller: caller)
        let now = self.now()
        try await database.sqlTransaction { tx in
            try await UserStore.setStatus(userID, .disabled, at: now, on: tx)
            try await revokeSessions(ofUser: userID, at: now, on: tx)
            try await revokeApiKeys(ofUser: userID, at: now, on: tx)
        }
        logger.info("user disabled", metadata: ["user_id": "\(userID.lowercasedString)"])
    }

    func listUserRoles(_ id: String, by caller: Principal) async throws -> [RoleAssignment] {
        let userID = try parseUserID(id)
        if userID != caller.userID { try caller.require(Permission(.user, .read)) }
        guard try await UserStore.user(userID, on: db) != nil else { throw AuthError.userNotFound }
        return try await RoleStore.assignmentsByRole(ofUser: userID, on: db)
    }

    /// Replaces a user's roles. The caller must itself hold everything it grants, and may not
    /// change its own roles (no self-escalation, no accidental self-lockout).
    func setUserRoles(
        _ id: String, roles requested: [RoleAssignment], by caller: Principal
    ) async throws
        -> [RoleAssignment]
    {
        try caller.require(Permission(.user, .update))
        let userID = try parseUserID(id)
        var violations: [FieldViolation] = []
        let roles = try await validateAssignments(requested, into: &violations)
        if userID == caller.userID {
            violations.append(FieldViolation(field: "id", reason: "you cannot change your own roles"))
        }
        guard violations.isEmpty else { throw AuthError.invalidInput(violations) }
        guard try await UserStore.user(userID, on: db) != nil else { throw AuthError.userNotFound }
        try await requireCoversUser(userID, caller: caller)
        try await requireMayGrant(roles, caller: caller)
        let now = self.now()
        try await database.transaction { tx in
            try await RoleStore.unassignAll(from: userID, on: tx)
            try await RoleStore.assign(roles, to: userID, at: now, on: tx)
        }
        return roles.sorted { ($0.role, $0.projectID ?? "") < ($1.role, $1.projectID ?? "") }
    }

    // MARK: Helpers

    func parseUserID(_ text: String, field: String = "id") throws -> UUID {
        try UUID(text, field: field)
    }

    /// Checks names, project ids and existence of roles; returns them de-duplicated.
    func validateAssignments(
        _ assignments: [RoleAssignment], into violations: inout [FieldViolation]
    ) async throws
        -> [RoleAssignment]
    {
        if assignments.count > Self.maxRolesPerUser {
            violations.append(
                FieldViolation(field: "roles", reason: "must have at most \(Self.maxRolesPerUser) entries"))
            return []
        }
        let names = Set(assignments.map(\.role))
        let known = Set(try await RoleStore.roles(named: names, on: db).map(\.name))
        var seen: Set<RoleAssignment> = []
        var result: [RoleAssignment] = []
        for (index, assignment) in assignments.enumerated() {
            var normalized = assignment
            if let project = assignment.projectID {
                normalized.projectID =
                    UUID(project, field: "roles[\(index)].projectId", into: &violations)?.lowercasedString
            }
            if !known.contains(assignment.role) {
                violations.append(
                    FieldViolation(field: "roles[\(index)].role", reason: "no role named '\(assignment.role)'"))
            }
            if seen.insert(normalized).inserted { result.append(normalized) }
        }
        return result
    }

    /// Acting on another user's credentials, status or roles needs everything that user holds.
    private func requireCoversUser(_ userID: UUID, caller: Principal) async throws {
        let target = try await permissions(ofUser: userID, on: db)
        guard caller.permissions.covers(target) else {
            throw AuthError.permissionDenied("You can only change users whose permissions you hold yourself.")
        }
    }

    private func requireMayGrant(_ roles: [RoleAssignment], caller: Principal) async throws {
        let granted = try await permissions(for: roles, on: db)
        guard caller.permissions.covers(granted) else {
            throw AuthError.permissionDenied("You can only grant roles whose permissions you hold yourself.")
        }
    }

    /// Creates the first admin when no active admin exists. Returns the generated password when
    /// none was configured, so the caller can show it once.
    func bootstrapAdmin() async throws -> (email: String, generatedPassword: String?)? {
        if try await !RoleStore.unscopedHolders(of: BuiltInRoles.admin.name, on: db).isEmpty { return nil }
        var violations: [FieldViolation] = []
        let email = InputValidation.email(configuration.adminEmail, field: "RAHAT_ADMIN_EMAIL", into: &violations)
        let generated = configuration.adminPassword == nil ? Secrets.randomToken(bytes: 15) : nil
        let password = configuration.adminPassword ?? generated ?? ""
        violations += PasswordPolicy.check(password, email: email, field: "RAHAT_ADMIN_PASSWORD")
        guard violations.isEmpty else {
            throw ConfigurationError(problems: violations.map { "\($0.field): \($0.reason)" })
        }
        let now = self.now()
        let hash = try await hasher.hash(password)
        try await database.transaction { tx in
            // An account under the configured email becomes the admin, with the configured password.
            let userID: UUID
            if let existing = try await UserStore.user(withEmail: email, on: tx) {
                userID = existing.id
                try await UserStore.activate(userID, passwordHash: hash, at: now, on: tx)
            } else {
                userID = UUID.v7(at: now)
                _ = try await UserStore.insert(
                    id: userID, name: "Administrator", email: email, phone: nil, passwordHash: hash, at: now, on: tx)
            }
            try await RoleStore.assign(
                [RoleAssignment(role: BuiltInRoles.admin.name, projectID: nil)], to: userID, at: now, on: tx)
        }
        logger.notice("created the first admin", metadata: ["email": "\(email)"])
        return (email, generated)
    }
}
