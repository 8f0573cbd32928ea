import AuthAPI
import GRPCCore
import ServerKit
import SharedModels
import SwiftProtobuf
import TokenVerification

/// `rahat.auth.v1.AuthService` over the auth domain.
struct AuthRPC: Rahat_Auth_V1_AuthService.SimpleServiceProtocol {
    let domain: AuthDomain

    func login(request: Rahat_Auth_V1_LoginRequest, context: ServerContext) async throws -> Rahat_Auth_V1_TokenPair {
        Rahat_Auth_V1_TokenPair(
            try await domain.login(
                email: request.email, password: request.password, clientIP: IncomingCall.current.clientIP)
        )
    }

    func refresh(request: Rahat_Auth_V1_RefreshRequest, context: ServerContext) async throws -> Rahat_Auth_V1_TokenPair
    {
        Rahat_Auth_V1_TokenPair(try await domain.refresh(token: request.refreshToken))
    }

    func logout(
        request: Rahat_Auth_V1_LogoutRequest, context: ServerContext
    ) async throws -> Rahat_Auth_V1_LogoutResponse {
        try await domain.logout(token: request.refreshToken, caller: try await domain.caller())
        return Rahat_Auth_V1_LogoutResponse()
    }

    func getPrincipal(
        request: Rahat_Auth_V1_GetPrincipalRequest,
        context: ServerContext
    ) async throws -> Rahat_Auth_V1_Principal {
        Rahat_Auth_V1_Principal(try await domain.describe(try await domain.caller()))
    }

    func verifyApiKey(
        request: Rahat_Auth_V1_VerifyApiKeyRequest,
        context: ServerContext
    ) async throws -> Rahat_Auth_V1_VerifiedApiKey {
        let verified = try await domain.verifyApiKey(request.key)
        return .with {
            $0.principal = Rahat_Auth_V1_Principal(verified.principal)
            $0.accessToken = verified.accessToken
            $0.expiresInSeconds = verified.expiresIn.components.seconds
        }
    }

    func issueServiceToken(
        request: Rahat_Auth_V1_IssueServiceTokenRequest,
        context: ServerContext
    ) async throws -> Rahat_Auth_V1_ServiceToken {
        let token = try await domain.issueServiceToken(
            service: request.service, secret: request.secret, peer: context.remotePeer)
        return .with {
            $0.accessToken = token.accessToken
            $0.expiresInSeconds = token.expiresIn.components.seconds
            $0.permissions = token.permissions.texts
        }
    }

    func listRevocations(
        request: Rahat_Auth_V1_ListRevocationsRequest,
        context: ServerContext
    ) async throws -> Rahat_Auth_V1_RevocationList {
        let revocations = try await domain.revocations(since: request.hasSince ? request.since.date : nil)
        return .with { list in
            list.revocations = revocations.map { revocation in
                .with {
                    $0.id = revocation.id.lowercasedString
                    $0.kind = revocation.kind.rawValue
                    $0.subject = revocation.subject.lowercasedString
                    $0.revokedAt = Google_Protobuf_Timestamp(date: revocation.revokedAt)
                    $0.expiresAt = Google_Protobuf_Timestamp(date: revocation.expiresAt)
                }
            }
        }
    }

    func getSigningKeys(
        request: Rahat_Auth_V1_GetSigningKeysRequest,
        context: ServerContext
    ) async throws -> Rahat_Auth_V1_SigningKeySet {
        let keys = try await domain.signingKeys.published()
        return .with { set in
            set.issuer = AccessTokenClaims.issuer
            set.keys = keys.map { key in
                .with {
                    $0.keyID = key.keyID
                    $0.algorithm = key.algorithm
                    $0.publicKeyPem = key.publicKeyPEM
                }
            }
        }
    }
}

/// `rahat.auth.v1.UserService` over the auth domain.
struct UserRPC: Rahat_Auth_V1_UserService.SimpleServiceProtocol {
    let domain: AuthDomain

    func createUser(request: Rahat_Auth_V1_CreateUserRequest, context: ServerContext) async throws -> Rahat_Auth_V1_User
    {
        let user = try await domain.createUser(
            NewUser(
                name: request.name,
                email: request.email,
                password: request.password,
                phone: request.hasPhone ? request.phone : nil,
                roles: request.roles.map(\.domain)
            ),
            by: try await domain.caller()
        )
        return Rahat_Auth_V1_User(user)
    }

    func getUser(request: Rahat_Auth_V1_GetUserRequest, context: ServerContext) async throws -> Rahat_Auth_V1_User {
        Rahat_Auth_V1_User(try await domain.getUser(request.id, by: try await domain.caller()))
    }

    func listUsers(
        request: Rahat_Auth_V1_ListUsersRequest,
        context: ServerContext
    ) async throws -> Rahat_Auth_V1_ListUsersResponse {
        let active: Bool? =
            switch request.hasStatus ? request.status : .unspecified {
            case .active: true
            case .disabled: false
            default: nil
            }
        let (users, next) = try await domain.listUsers(
            limit: request.limit == 0 ? 50 : Int(request.limit),
            cursor: request.hasCursor ? request.cursor : nil,
            active: active,
            by: try await domain.caller()
        )
        return .with {
            $0.users = users.map(Rahat_Auth_V1_User.init)
            if let next { $0.nextCursor = next }
        }
    }

    func updateUser(request: Rahat_Auth_V1_UpdateUserRequest, context: ServerContext) async throws -> Rahat_Auth_V1_User
    {
        let isActive: Bool? =
            switch request.hasStatus ? request.status : .unspecified {
            case .active: true
            case .disabled: false
            default: nil
            }
        let changes = UserChanges(
            name: request.hasName ? request.name : nil,
            phone: request.hasPhone ? request.phone : nil,
            isActive: isActive,
            password: request.hasPassword ? request.password : nil,
            currentPassword: request.hasCurrentPassword ? request.currentPassword : nil,
            locale: request.hasLocale ? request.locale : nil,
            timeZone: request.hasTimeZone ? request.timeZone : nil
        )
        return Rahat_Auth_V1_User(
            try await domain.updateUser(request.id, changes: changes, by: try await domain.caller()))
    }

    func deleteUser(
        request: Rahat_Auth_V1_DeleteUserRequest,
        context: ServerContext
    ) async throws -> Rahat_Auth_V1_DeleteUserResponse {
        try await domain.deleteUser(request.id, by: try await domain.caller())
        return Rahat_Auth_V1_DeleteUserResponse()
    }

    func listUserRoles(
        request: Rahat_Auth_V1_ListUserRolesRequest,
        context: ServerContext
    ) async throws -> Rahat_Auth_V1_RoleAssignments {
        let roles = try await domain.listUserRoles(request.userID, by: try await domain.caller())
        return .with { $0.roles = roles.map(Rahat_Auth_V1_RoleAssignment.init) }
    }

    func setUserRoles(
        request: Rahat_Auth_V1_SetUserRolesRequest,
        context: ServerContext
    ) async throws -> Rahat_Auth_V1_RoleAssignments {
        let roles = try await domain.setUserRoles(
            request.userID,
            roles: request.roles.map(\.domain),
            by: try await domain.caller()
        )
        return .with { $0.roles = roles.map(Rahat_Auth_V1_RoleAssignment.init) }
    }
}

/// `rahat.auth.v1.RoleService` over the auth domain.
struct RoleRPC: Rahat_Auth_V1_RoleService.SimpleServiceProtocol {
    let domain: AuthDomain

    func listRoles(
        request: Rahat_Auth_V1_ListRolesRequest, context: ServerContext
    ) async throws -> Rahat_Auth_V1_ListRolesResponse {
        let roles = try await domain.listRoles(by: try await domain.caller())
        return .with { $0.roles = roles.map(Rahat_Auth_V1_Role.init) }
    }

    func getRole(request: Rahat_Auth_V1_GetRoleRequest, context: ServerContext) async throws -> Rahat_Auth_V1_Role {
        Rahat_Auth_V1_Role(try await domain.getRole(request.name, by: try await domain.caller()))
    }

    func createRole(request: Rahat_Auth_V1_CreateRoleRequest, context: ServerContext) async throws -> Rahat_Auth_V1_Role
    {
        let role = try await domain.createRole(
            name: request.name,
            description: request.hasDescription_p ? request.description_p : nil,
            permissions: request.permissions,
            by: try await domain.caller()
        )
        return Rahat_Auth_V1_Role(role)
    }

    func deleteRole(
        request: Rahat_Auth_V1_DeleteRoleRequest,
        context: ServerContext
    ) async throws -> Rahat_Auth_V1_DeleteRoleResponse {
        try await domain.deleteRole(request.name, by: try await domain.caller())
        return Rahat_Auth_V1_DeleteRoleResponse()
    }
}

/// `rahat.auth.v1.ApiKeyService` over the auth domain.
struct ApiKeyRPC: Rahat_Auth_V1_ApiKeyService.SimpleServiceProtocol {
    let domain: AuthDomain

    func createApiKey(
        request: Rahat_Auth_V1_CreateApiKeyRequest,
        context: ServerContext
    ) async throws -> Rahat_Auth_V1_CreatedApiKey {
        let (info, key) = try await domain.createApiKey(
            NewApiKey(
                name: request.name,
                permissions: request.permissions,
                projectID: request.hasProjectID ? request.projectID : nil,
                expiresAt: request.hasExpiresAt ? request.expiresAt.date : nil
            ),
            by: try await domain.caller()
        )
        return .with {
            $0.apiKey = Rahat_Auth_V1_ApiKey(info)
            $0.key = key
        }
    }

    func listApiKeys(
        request: Rahat_Auth_V1_ListApiKeysRequest,
        context: ServerContext
    ) async throws -> Rahat_Auth_V1_ListApiKeysResponse {
        let keys = try await domain.listApiKeys(by: try await domain.caller())
        return .with { $0.apiKeys = keys.map(Rahat_Auth_V1_ApiKey.init) }
    }

    func getApiKey(request: Rahat_Auth_V1_GetApiKeyRequest, context: ServerContext) async throws -> Rahat_Auth_V1_ApiKey
    {
        Rahat_Auth_V1_ApiKey(try await domain.getApiKey(request.id, by: try await domain.caller()))
    }

    func revokeApiKey(
        request: Rahat_Auth_V1_RevokeApiKeyRequest,
        context: ServerContext
    ) async throws -> Rahat_Auth_V1_RevokeApiKeyResponse {
        try await domain.revokeApiKey(request.id, by: try await domain.caller())
        return Rahat_Auth_V1_RevokeApiKeyResponse()
    }
}
