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

        if try await UserRow.query(on: db).filter(\.$email == email).first() != nil { throw AuthError.emailTaken }
        let hash = try await hasher.hash(request.password)
        let now = self.now()
        let row = UserRow()
        row.id = UUID.v7(at: now)
        row.name = name
        row.email = email
        row.phone = phone
        row.status = UserStatus.active.rawValue
        row.passwordHash = hash
        row.createdAt = now
        row.updatedAt = now
        do {
            try await database.transaction { tx in
                try await row.create(on: tx)
                try await insertAssignments(roles, userID: try row.requireID(), at: now, on: tx)
            }
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // Lost a race with a concurrent create of the same email.
            throw AuthError.emailTaken
        }
        logger.info("user created", metadata: ["user_id": "\(row.id?.lowercasedString ?? "")"])
        return try await userInfo(row, on: db)
    }

    func getUser(_ id: String, by caller: Principal) async throws -> UserInfo {
        let userID = try parseUserID(id)
        if userID != caller.userID { try caller.require(Permission(.user, .read)) }
        guard let row = try await UserRow.find(userID, on: db) else { throw AuthError.userNotFound }
        return try await userInfo(row, on: db)
    }

    func listUsers(
        limit: Int, cursor: String?, active: Bool?, by caller: Principal
    ) async throws -> (
        [UserInfo], String?
    ) {
        try caller.require(Permission(.user, .read))
        let page = try PageRequest<UUID>.validate(limit: limit, cursor: cursor).get()
        var query = UserRow.query(on: db).sort(\.$id).limit(limit + 1)
        if let after = page.after { query = query.filter(\.$id > after) }
        if let active {
            query = query.filter(\.$status == (active ? UserStatus.active : UserStatus.disabled).rawValue)
        }
        let (rows, next) = try page.page(of: try await query.all()) { try $0.requireID() }
        return (try await userInfos(rows, on: db), next)
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
        guard let row = try await UserRow.find(userID, on: db) else { throw AuthError.userNotFound }
        var violations: [FieldViolation] = []
        if isSelf, changes.password != nil {
            guard let current = changes.currentPassword, !current.isEmpty else {
                throw AuthError.invalidInput([
                    FieldViolation(field: "currentPassword", reason: "is required to change your own password")
                ])
            }
            guard let hash = row.passwordHash, try await hasher.verify(current, against: hash) else {
                throw AuthError.invalidInput([
                    FieldViolation(field: "currentPassword", reason: "is not your present password")
                ])
            }
        }
        if let name = changes.name { row.name = InputValidation.name(name, into: &violations) }
        if let phone = changes.phone {
            row.phone = phone.isEmpty ? nil : InputValidation.phone(phone, into: &violations)
        }
        if let password = changes.password { violations += PasswordPolicy.check(password, email: row.email) }
        if changes.isActive == false, isSelf {
            violations.append(FieldViolation(field: "status", reason: "you cannot disable your own account"))
        }
        guard violations.isEmpty else { throw AuthError.invalidInput(violations) }
        let now = self.now()
        if let password = changes.password { row.passwordHash = try await hasher.hash(password) }
        if let active = changes.isActive { row.status = (active ? UserStatus.active : UserStatus.disabled).rawValue }
        row.updatedAt = now
        try await database.transaction { tx in
            try await row.save(on: tx)
            // A new password or a disabled account ends every existing session.
            if changes.password != nil || changes.isActive == false {
                try await revokeSessions(ofUser: userID, at: now, on: tx)
            }
            if changes.isActive == false {
                try await revokeApiKeys(ofUser: userID, at: now, on: tx)
            }
        }
        return try await userInfo(row, on: db)
    }

    /// Disables a user and revokes its sessions and API keys. Users are never erased: audit records
    /// and ledger transfers refer to them.
    func deleteUser(_ id: String, by caller: Principal) async throws {
        try caller.require(Permission(.user, .delete))
        let userID = try parseUserID(id)
        guard userID != caller.userID else { throw AuthError.cannotDeleteSelf }
        guard let row = try await UserRow.find(userID, on: db) else { throw AuthError.userNotFound }
        try await requireCoversUser(userID, caller: caller)
        let now = self.now()
        row.status = UserStatus.disabled.rawValue
        row.updatedAt = now
        try await database.transaction { tx in
            try await row.save(on: tx)
            try await revokeSessions(ofUser: userID, at: now, on: tx)
            try await revokeApiKeys(ofUser: userID, at: now, on: tx)
        }
        logger.info("user disabled", metadata: ["user_id": "\(userID.lowercasedString)"])
    }

    func listUserRoles(_ id: String, by caller: Principal) async throws -> [RoleAssignment] {
        let userID = try parseUserID(id)
        if userID != caller.userID { try caller.require(Permission(.user, .read)) }
        guard try await UserRow.find(userID, on: db) != nil else { throw AuthError.userNotFound }
        return try await UserRoleRow.query(on: db).filter(\.$userID == userID).sort(\.$roleName).all()
            .map { RoleAssignment(role: $0.roleName, projectID: $0.projectID) }
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
        guard try await UserRow.find(userID, on: db) != nil else { throw AuthError.userNotFound }
        try await requireCoversUser(userID, caller: caller)
        try await requireMayGrant(roles, caller: caller)
        let now = self.now()
        try await database.transaction { tx in
            try await UserRoleRow.query(on: tx).filter(\.$userID == userID).delete()
            try await insertAssignments(roles, userID: userID, at: now, on: tx)
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
        let known = Set(try await RoleRow.query(on: db).filter(\.$id ~~ names).all().compactMap(\.id))
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

    private func insertAssignments(
        _ roles: [RoleAssignment], userID: UUID, at now: Date, on db: any Database
    )
        async throws
    {
        for assignment in roles {
            let link = UserRoleRow()
            link.id = UUID.v7(at: now)
            link.userID = userID
            link.roleName = assignment.role
            link.projectID = assignment.projectID
            link.createdAt = now
            try await link.create(on: db)
        }
    }

    /// Creates the first admin when no active admin exists. Returns the generated password when
    /// none was configured, so the caller can show it once.
    func bootstrapAdmin() async throws -> (email: String, generatedPassword: String?)? {
        let adminLinks = try await UserRoleRow.query(on: db)
            .filter(\.$roleName == BuiltInRoles.admin.name).filter(\.$projectID == nil).all()
        if !adminLinks.isEmpty { return nil }
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
            let row = try await UserRow.query(on: tx).filter(\.$email == email).first() ?? UserRow()
            if row.id == nil {
                row.id = UUID.v7(at: now)
                row.name = "Administrator"
                row.email = email
                row.createdAt = now
            }
            row.status = UserStatus.active.rawValue
            row.passwordHash = hash
            row.updatedAt = now
            try await row.save(on: tx)
            try await insertAssignments(
                [RoleAssignment(role: BuiltInRoles.admin.name, projectID: nil)],
                userID: try row.requireID(),
                at: now,
                on: tx
            )
        }
        logger.notice("created the first admin", metadata: ["email": "\(email)"])
        return (email, generated)
    }
}
