import FluentKit
import Foundation
import SharedModels

/// Roles and users' assignments of them, as stored, and every statement that reads or changes
/// them.
enum RoleStore {
    // MARK: Roles

    /// Every role, by name.
    static func roles(on db: any Database) async throws -> [RoleInfo] {
        try await RoleRow.query(on: db).sort(\.$id).all().map(role(from:))
    }

    /// The roles among `names` that exist, in no particular order.
    static func roles(named names: Set<String>, on db: any Database) async throws -> [RoleInfo] {
        try await RoleRow.query(on: db).filter(\.$id ~~ names).all().map(role(from:))
    }

    /// The role called `name`, or nil.
    static func role(named name: String, on db: any Database) async throws -> RoleInfo? {
        try await RoleRow.find(name, on: db).map(role(from:))
    }

    /// Inserts a role that is not built in; the primary key refuses a name taken already.
    static func insert(
        name: String, description: String?, permissions: [String], at now: Date, on db: any Database
    ) async throws -> RoleInfo {
        let row = RoleRow()
        row.id = name
        row.roleDescription = description
        row.builtIn = false
        row.permissions = permissions
        row.createdAt = now
        try await row.create(on: db)
        return role(from: row)
    }

    /// Deletes the role called `name`.
    static func delete(named name: String, on db: any Database) async throws {
        try await RoleRow.query(on: db).filter(\.$id == name).delete()
    }

    private static func role(from row: RoleRow) -> RoleInfo {
        RoleInfo(
            name: row.id ?? "",
            description: row.roleDescription,
            builtIn: row.builtIn,
            permissions: row.permissions,
            createdAt: row.createdAt
        )
    }

    // MARK: Assignments

    /// The user's roles, in no particular order.
    static func assignments(ofUser userID: UUID, on db: any Database) async throws -> [RoleAssignment] {
        try await UserRoleRow.query(on: db).filter(\.$userID == userID).all().map(assignment(from:))
    }

    /// The user's roles, by role name.
    static func assignmentsByRole(ofUser userID: UUID, on db: any Database) async throws -> [RoleAssignment] {
        try await UserRoleRow.query(on: db).filter(\.$userID == userID).sort(\.$roleName).all()
            .map(assignment(from:))
    }

    /// The roles of each of `userIDs` that holds any, each user's by role name: one query for a
    /// page of users, not one per user.
    static func assignments(ofUsers userIDs: [UUID], on db: any Database) async throws -> [UUID: [RoleAssignment]] {
        let links = try await UserRoleRow.query(on: db).filter(\.$userID ~~ userIDs).sort(\.$roleName).all()
        return Dictionary(grouping: links, by: \.userID).mapValues { $0.map(assignment(from:)) }
    }

    /// Whether anyone holds the role, in any project or none.
    static func isAssigned(_ role: String, on db: any Database) async throws -> Bool {
        try await UserRoleRow.query(on: db).filter(\.$roleName == role).first() != nil
    }

    /// The users holding `role` outside any project.
    static func unscopedHolders(of role: String, on db: any Database) async throws -> [UUID] {
        try await UserRoleRow.query(on: db)
            .filter(\.$roleName == role).filter(\.$projectID == nil).all().map(\.userID)
    }

    /// Gives the user each of `roles`, one row each, in order.
    static func assign(_ roles: [RoleAssignment], to userID: UUID, at now: Date, on db: any Database) async throws {
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

    /// Takes every role from the user.
    static func unassignAll(from userID: UUID, on db: any Database) async throws {
        try await UserRoleRow.query(on: db).filter(\.$userID == userID).delete()
    }

    private static func assignment(from row: UserRoleRow) -> RoleAssignment {
        RoleAssignment(role: row.roleName, projectID: row.projectID)
    }
}
