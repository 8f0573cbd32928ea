import FluentKit
import Foundation
import Persistence
import ServerKit
import SharedModels

extension AuthDomain {
    static let maxPermissionsPerRole = 100

    func listRoles(by caller: Principal) async throws -> [RoleInfo] {
        try caller.require(Permission(.role, .read))
        return try await database.replicaRead { db in try await RoleStore.roles(on: db) }
    }

    func getRole(_ name: String, by caller: Principal) async throws -> RoleInfo {
        try caller.require(Permission(.role, .read))
        guard let role = try await RoleStore.role(named: name, on: db) else { throw AuthError.roleNotFound(name) }
        return role
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
        if try await RoleStore.role(named: name, on: db) != nil { throw AuthError.roleNameTaken }
        do {
            return try await RoleStore.insert(
                name: name, description: description, permissions: PermissionSet(grants).texts, at: now(), on: db)
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw AuthError.roleNameTaken
        }
    }

    func deleteRole(_ name: String, by caller: Principal) async throws {
        try caller.require(Permission(.role, .delete))
        guard let role = try await RoleStore.role(named: name, on: db) else { throw AuthError.roleNotFound(name) }
        guard !role.builtIn else { throw AuthError.builtInRole }
        if try await RoleStore.isAssigned(name, on: db) { throw AuthError.roleInUse }
        try await RoleStore.delete(named: name, on: db)
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
}
