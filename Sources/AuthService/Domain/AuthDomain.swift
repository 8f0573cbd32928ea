import FluentKit
import Foundation
import Logging
import Persistence
import SQLKit
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
    var locale: String?
    var timeZone: String?
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
    var sql: any SQLDatabase { database.sql }

    // MARK: Caller identity

    /// The caller of the current RPC, from its bearer token.
    func caller() async throws -> Principal {
        try await verifier.verifyCurrentCaller()
    }

    // MARK: Permissions

    /// What a user may do: the union of its roles' grants, each scoped to the assignment's project.
    func permissions(ofUser userID: UUID, on db: any Database) async throws -> PermissionSet {
        try await permissions(for: try await RoleStore.assignments(ofUser: userID, on: db), on: db)
    }

    func permissions(for assignments: [RoleAssignment], on db: any Database) async throws -> PermissionSet {
        let names = Set(assignments.map(\.role))
        guard !names.isEmpty else { return PermissionSet([]) }
        let roles = try await RoleStore.roles(named: names, on: db)
        let grantsByRole = Dictionary(uniqueKeysWithValues: roles.map { ($0.name, $0.permissions) })
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

    // MARK: Mapping users

    func userInfo(_ user: UserStore.StoredUser, on db: any Database) async throws -> UserInfo {
        try await userInfos([user], on: db)[0]
    }

    /// Maps a page of users with one query for all their role assignments, not one per user.
    func userInfos(_ users: [UserStore.StoredUser], on db: any Database) async throws -> [UserInfo] {
        let ids = users.map(\.id)
        guard !ids.isEmpty else { return [] }
        let rolesByUser = try await RoleStore.assignments(ofUsers: ids, on: db)
        return users.map { user in
            UserInfo(
                id: user.id,
                name: user.name,
                email: user.email,
                phone: user.phone,
                isActive: user.isActive,
                roles: rolesByUser[user.id] ?? [],
                locale: user.locale,
                timeZone: user.timeZone,
                createdAt: user.createdAt,
                updatedAt: user.updatedAt
            )
        }
    }
}

/// Stored user states.
enum UserStatus: String {
    case active, disabled
}
