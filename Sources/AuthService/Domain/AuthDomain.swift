import FluentKit
import Foundation
import Logging
import Persistence
import ServerKit
import SharedModels
import TokenVerification

/// A user as the rest of the system sees it.
struct UserInfo: Sendable, Equatable {
    var id: UUID
    var name: String
    var email: String
    var phone: String?
    var isActive: Bool
    var roles: [RoleAssignment]
    var createdAt: Date
    var updatedAt: Date
}

/// One role held by a user, optionally only inside one project.
struct RoleAssignment: Sendable, Hashable {
    var role: String
    var projectID: String?
}

/// A role and what it grants.
struct RoleInfo: Sendable, Equatable {
    var name: String
    var description: String?
    var builtIn: Bool
    var permissions: [String]
    var createdAt: Date
}

/// An API key without its secret.
struct ApiKeyInfo: Sendable, Equatable {
    var id: UUID
    var name: String
    var prefix: String
    var permissions: [String]
    var projectID: String?
    var ownerID: UUID
    var expiresAt: Date?
    var lastUsedAt: Date?
    var revokedAt: Date?
    var createdAt: Date
}

/// Tokens handed out at login or refresh.
struct IssuedTokens: Sendable {
    var accessToken: String
    var accessExpiresIn: Duration
    var refreshToken: String
    var refreshExpiresIn: Duration
}

/// The auth domain: every rule about identities, credentials, sessions, roles and API keys.
/// Transport-free; the RPC layer adapts it to the generated protocols.
struct AuthDomain: Sendable {
    let database: ServiceDatabase
    let hasher: PasswordHasher
    let signingKeys: SigningKeys
    let verifier: AccessTokenVerifier
    let configuration: AuthServiceConfiguration
    /// Failed service-token requests per caller address.
    let serviceCredentialFailures: FailureThrottle
    let logger: Logger
    let now: @Sendable () -> Date

    var db: any Database { database.db }

    // MARK: Caller identity

    /// The caller of the current RPC, from its bearer token.
    func caller() async throws -> Principal {
        try await verifier.verifyCurrentCaller()
    }

    // MARK: Permissions

    /// What a user may do: the union of its roles' grants, each scoped to the assignment's project.
    func permissions(ofUser userID: UUID, on db: any Database) async throws -> PermissionSet {
        let assignments = try await UserRoleRow.query(on: db).filter(\.$userID == userID).all()
        return try await permissions(
            for: assignments.map { RoleAssignment(role: $0.roleName, projectID: $0.projectID) }, on: db)
    }

    func permissions(for assignments: [RoleAssignment], on db: any Database) async throws -> PermissionSet {
        let names = Set(assignments.map(\.role))
        guard !names.isEmpty else { return PermissionSet([]) }
        let roles = try await RoleRow.query(on: db).filter(\.$id ~~ names).all()
        let grantsByRole = Dictionary(
            uniqueKeysWithValues: roles.compactMap { row in row.id.map { ($0, row.permissions) } })
        var grants: [Permission] = []
        for assignment in assignments {
            for text in grantsByRole[assignment.role] ?? [] {
                guard var permission = Permission(text) else { continue }
                if let project = assignment.projectID, permission.projectID == nil {
                    permission.projectID = project
                }
                grants.append(permission)
            }
        }
        return PermissionSet(grants)
    }

    // MARK: Mapping rows

    func userInfo(_ row: UserRow, on db: any Database) async throws -> UserInfo {
        try await userInfos([row], on: db)[0]
    }

    /// Maps a page of users with one query for all their role assignments, not one per user.
    func userInfos(_ rows: [UserRow], on db: any Database) async throws -> [UserInfo] {
        let ids = try rows.map { try $0.requireID() }
        guard !ids.isEmpty else { return [] }
        let links = try await UserRoleRow.query(on: db).filter(\.$userID ~~ ids).sort(\.$roleName).all()
        let rolesByUser = Dictionary(grouping: links, by: \.userID)
        return try rows.map { row in
            try userInfo(row, roles: rolesByUser[try row.requireID()] ?? [])
        }
    }

    private func userInfo(_ row: UserRow, roles: [UserRoleRow]) throws -> UserInfo {
        let id = try row.requireID()
        return UserInfo(
            id: id,
            name: row.name,
            email: row.email,
            phone: row.phone,
            isActive: row.status == UserStatus.active.rawValue,
            roles: roles.map { RoleAssignment(role: $0.roleName, projectID: $0.projectID) },
            createdAt: row.createdAt,
            updatedAt: row.updatedAt
        )
    }
}

/// Stored user states.
enum UserStatus: String {
    case active, disabled
}
