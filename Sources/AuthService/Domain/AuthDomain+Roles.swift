import FluentKit
import Foundation
import ServerKit
import SharedModels

extension AuthDomain {
    static let maxPermissionsPerRole = 100

    func listRoles(by caller: Principal) async throws -> [RoleInfo] {
        try caller.require(Permission(.role, .read))
        return try await RoleRow.query(on: db).sort(\.$id).all().map(roleInfo)
    }

    func getRole(_ name: String, by caller: Principal) async throws -> RoleInfo {
        try caller.require(Permission(.role, .read))
        guard let row = try await RoleRow.find(name, on: db) else { throw AuthError.roleNotFound(name) }
        return roleInfo(row)
    }

    func createRole(
        name: String, description: String?, permissions: [String], by caller: Principal
    ) async throws
        -> RoleInfo
    {
        try caller.require(Permission(.role, .create))
        var violations: [FieldViolation] = []
        if !Self.isValidRoleName(name) {
            violations.append(
                FieldViolation(
                    field: "name",
                    reason: "must be 2–50 lower-case letters, digits or underscores, starting with a letter")
            )
        }
        if let description, description.count > 1000 {
            violations.append(FieldViolation(field: "description", reason: "must be at most 1000 characters"))
        }
        let grants = Self.parsePermissions(permissions, field: "permissions", into: &violations)
        if permissions.isEmpty { violations.append(FieldViolation(field: "permissions", reason: "must not be empty")) }
        if permissions.count > Self.maxPermissionsPerRole {
            violations.append(
                FieldViolation(field: "permissions", reason: "must have at most \(Self.maxPermissionsPerRole) entries"))
        }
        guard violations.isEmpty else { throw AuthError.invalidInput(violations) }
        guard caller.permissions.covers(PermissionSet(grants)) else {
            throw AuthError.permissionDenied("A role can only contain permissions you hold yourself.")
        }
        if try await RoleRow.find(name, on: db) != nil { throw AuthError.roleNameTaken }
        let row = RoleRow()
        row.id = name
        row.roleDescription = description
        row.builtIn = false
        row.permissions = PermissionSet(grants).texts
        row.createdAt = now()
        do {
            try await row.create(on: db)
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw AuthError.roleNameTaken
        }
        return roleInfo(row)
    }

    func deleteRole(_ name: String, by caller: Principal) async throws {
        try caller.require(Permission(.role, .delete))
        guard let row = try await RoleRow.find(name, on: db) else { throw AuthError.roleNotFound(name) }
        guard !row.builtIn else { throw AuthError.builtInRole }
        if try await UserRoleRow.query(on: db).filter(\.$roleName == name).first() != nil { throw AuthError.roleInUse }
        try await row.delete(on: db)
    }

    static func isValidRoleName(_ name: String) -> Bool {
        guard (2...50).contains(name.count), let first = name.unicodeScalars.first,
            ("a"..."z").contains(first)
        else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// Parses unscoped permission texts, naming each bad entry by index.
    static func parsePermissions(
        _ texts: [String], field: String, into violations: inout [FieldViolation]
    )
        -> [Permission]
    {
        var grants: [Permission] = []
        for (index, text) in texts.enumerated() {
            guard let permission = Permission(text), permission.projectID == nil else {
                violations.append(
                    FieldViolation(
                        field: "\(field)[\(index)]", reason: "'\(text)' is not a permission like 'beneficiary:read'")
                )
                continue
            }
            grants.append(permission)
        }
        return grants
    }

    private func roleInfo(_ row: RoleRow) -> RoleInfo {
        RoleInfo(
            name: row.id ?? "",
            description: row.roleDescription,
            builtIn: row.builtIn,
            permissions: row.permissions,
            createdAt: row.createdAt
        )
    }
}
