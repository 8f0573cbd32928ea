import AuthAPI
package import GRPCCore
import ServerKit

/// The auth service as the gateway reaches it: one generated client per gRPC service, all over
/// the same connection (in-process or HTTP/2, chosen at start-up).
package struct AuthBackend: Sendable {
    let auth: any Rahat_Auth_V1_AuthService.ClientProtocol
    let users: any Rahat_Auth_V1_UserService.ClientProtocol
    let roles: any Rahat_Auth_V1_RoleService.ClientProtocol
    let apiKeys: any Rahat_Auth_V1_ApiKeyService.ClientProtocol
    let health: any Grpc_Health_V1_Health.ClientProtocol

    package init<Transport: ClientTransport>(client: GRPCClient<Transport>) {
        auth = Rahat_Auth_V1_AuthService.Client(wrapping: client)
        users = Rahat_Auth_V1_UserService.Client(wrapping: client)
        roles = Rahat_Auth_V1_RoleService.Client(wrapping: client)
        apiKeys = Rahat_Auth_V1_ApiKeyService.Client(wrapping: client)
        health = Grpc_Health_V1_Health.Client(wrapping: client)
    }
}
