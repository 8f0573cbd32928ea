package import AuthAPI
package import CoreAPI
import Foundation
import GRPCCore
package import LedgerAPI
package import ServerKit
import SharedModels
import SwiftProtobuf

/// The other services as project-c2c uses them. Reads of projects and users and every movement
/// of value go as the service itself (its service credentials): the caller's rights are checked
/// here first, and the ledger takes value moves only from services that hold `ledger:create`.
package struct C2CClients: Sendable {
    let projects: any Rahat_Core_V1_ProjectService.ClientProtocol
    let users: any Rahat_Auth_V1_UserService.ClientProtocol
    let ledger: any Rahat_Ledger_V1_LedgerService.ClientProtocol
    let credentials: ServiceCredentials

    package init(
        projects: any Rahat_Core_V1_ProjectService.ClientProtocol,
        users: any Rahat_Auth_V1_UserService.ClientProtocol,
        ledger: any Rahat_Ledger_V1_LedgerService.ClientProtocol,
        credentials: ServiceCredentials
    ) {
        self.projects = projects
        self.users = users
        self.ledger = ledger
        self.credentials = credentials
    }

    /// Credentials for service `c2c` from the auth service `auth`, with the deployment's secret.
    package static func credentials(
        auth: any Rahat_Auth_V1_AuthService.ClientProtocol, secret: String
    ) -> ServiceCredentials {
        ServiceCredentials {
            let token = try await auth.issueServiceToken(
                .with {
                    $0.service = "c2c"
                    $0.secret = secret
                })
            return (token.accessToken, .seconds(token.expiresInSeconds))
        }
    }

    /// What c2c needs of a project.
    struct ProjectFacts: Sendable {
        var id: UUID
        var asset: String
        var closed: Bool
    }

    /// The project, or `projectNotFound`.
    func project(_ id: UUID) async throws -> ProjectFacts {
        do {
            let project = try await asService { metadata in
                try await projects.getProject(.with { $0.id = id.lowercasedString }, metadata: metadata)
            }
            return ProjectFacts(id: id, asset: project.asset, closed: project.status == .closed)
        } catch let error as RPCError where error.code == .notFound {
            throw C2CError.projectNotFound
        }
    }

    /// Whether `id` names an active user.
    func isActiveUser(_ id: UUID) async throws -> Bool {
        do {
            let user = try await asService { metadata in
                try await users.getUser(.with { $0.id = id.lowercasedString }, metadata: metadata)
            }
            return user.status == .active
        } catch let error as RPCError where error.code == .notFound {
            return false
        }
    }

    /// Records one transfer as the service.
    func transfer(_ request: Rahat_Ledger_V1_TransferRequest) async throws -> Rahat_Ledger_V1_TransferResult {
        try await asService { metadata in try await ledger.recordTransfer(request, metadata: metadata) }
    }

    /// Runs `call` with the service's credentials. The service's own credentials being refused is
    /// this deployment's fault (secrets that differ, grants that do not fit), never the caller's:
    /// it is raised as an unexpected error, logged and answered as internal, not passed on as the
    /// caller's 401 or 403.
    private func asService<T>(_ call: (Metadata) async throws -> T) async throws -> T {
        let metadata: Metadata
        do {
            metadata = try await credentials.metadata()
        } catch let error as RPCError
            where [.unauthenticated, .permissionDenied, .failedPrecondition].contains(error.code)
        {
            throw ServiceCallRefused(call: "IssueServiceToken", error: error)
        }
        do {
            return try await call(metadata)
        } catch let error as RPCError where [.unauthenticated, .permissionDenied].contains(error.code) {
            throw ServiceCallRefused(call: "a call as service c2c", error: error)
        }
    }
}

/// The auth service refused project-c2c's own credentials, or a service refused a call made with them.
struct ServiceCallRefused: Error, CustomStringConvertible {
    var call: String
    var error: RPCError

    var description: String { "\(call) was refused: \(error.code): \(error.message)" }
}
