import AuthAPI
import Foundation
import GRPCCore
import JobQueue
import Logging
import OpenAPIRuntime
import ServerKit
import SwiftProtobuf

/// Implements the public contract (`openapi.yaml`) by calling the services over gRPC.
///
/// Handlers translate between the contract's JSON types and the services' protobuf messages and
/// nothing more: rules live in the services, errors are rendered by ``ProblemMapping``.
struct APIHandler: APIProtocol {
    let auth: AuthBackend
    let core: CoreBackend
    let ledger: LedgerBackend
    let c2c: C2CBackend
    /// The job queue, for `/v1/jobs`; nil where none is configured.
    let jobs: (any JobMonitor)?
    /// Bounds the job progress streams this gateway serves.
    let streams: EventStreamGate
    let readiness: Readiness
    let logger: Logger

    /// The caller, established by ``AuthenticationMiddleware`` for every non-public operation.
    var caller: RequestIdentity {
        get throws {
            guard let identity = RequestIdentity.current else {
                throw ServiceError(
                    .unauthenticated, reason: "auth.missing_credentials", message: "Credentials are required.")
            }
            return identity
        }
    }

    /// Call metadata that acts as the caller: its forwarded credentials, address and request id.
    /// Every non-public handler calls the services with it, so none can call anonymously by
    /// forgetting a check.
    var asCaller: Metadata {
        get throws { GatewayCall.metadata(authorization: try caller.forwardedAuthorization) }
    }

    // MARK: System

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: .ok))))
    }

    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output {
        let report = await readiness.run()
        // The endpoint is public: say what is down, keep why (addresses, paths) in the log.
        for entry in report.entries where !entry.isUp {
            logger.warning(
                "readiness check failed", metadata: ["check": "\(entry.name)", "detail": "\(entry.detail ?? "")"])
        }
        let body = Components.Schemas.Readiness(
            status: report.isReady ? .ready : .notReady,
            checks: report.entries.map { .init(name: $0.name, status: $0.isUp ? .up : .down) }
        )
        return report.isReady ? .ok(.init(body: .json(body))) : .serviceUnavailable(.init(body: .json(body)))
    }

    // MARK: Auth

    func login(_ input: Operations.Login.Input) async throws -> Operations.Login.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let tokens = try await auth.auth.login(
            .with {
                $0.email = body.email
                $0.password = body.password
            },
            metadata: GatewayCall.metadata(authorization: nil)
        )
        return .ok(.init(body: .json(.init(tokens))))
    }

    func refreshToken(_ input: Operations.RefreshToken.Input) async throws -> Operations.RefreshToken.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let tokens = try await auth.auth.refresh(
            .with { $0.refreshToken = body.refreshToken },
            metadata: GatewayCall.metadata(authorization: nil)
        )
        return .ok(.init(body: .json(.init(tokens))))
    }

    func logout(_ input: Operations.Logout.Input) async throws -> Operations.Logout.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        _ = try await auth.auth.logout(.with { $0.refreshToken = body.refreshToken }, metadata: asCaller)
        return .noContent(.init())
    }

    func getMe(_ input: Operations.GetMe.Input) async throws -> Operations.GetMe.Output {
        let principal = try await auth.auth.getPrincipal(
            Rahat_Auth_V1_GetPrincipalRequest(), metadata: asCaller)
        return .ok(
            .init(
                body: .json(
                    .init(
                        user: .init(principal.user),
                        permissions: principal.permissions,
                        authMethod: principal.authMethod == .apiKey ? .apiKey : .password,
                        apiKeyId: principal.hasApiKeyID ? principal.apiKeyID : nil
                    )
                )
            )
        )
    }

    static let unsupportedBody = ServiceError(
        .invalidArgument,
        reason: "request.unsupported_media_type",
        message: "Send the body as application/json."
    )
}

extension Components.Schemas.TokenPair {
    init(_ tokens: Rahat_Auth_V1_TokenPair) {
        self.init(
            accessToken: tokens.accessToken,
            tokenType: .bearer,
            expiresIn: Int(tokens.expiresInSeconds),
            refreshToken: tokens.refreshToken,
            refreshExpiresIn: Int(tokens.refreshExpiresInSeconds)
        )
    }
}

extension Components.Schemas.User {
    init(_ user: Rahat_Auth_V1_User) {
        self.init(
            id: user.id,
            name: user.name,
            email: user.email,
            phone: user.hasPhone ? user.phone : nil,
            status: user.status == .disabled ? .disabled : .active,
            roles: user.roles.map(Components.Schemas.RoleAssignment.init),
            locale: user.hasLocale ? user.locale : nil,
            timeZone: user.hasTimeZone ? user.timeZone : nil,
            createdAt: user.createdAt.date,
            updatedAt: user.updatedAt.date
        )
    }
}

extension Components.Schemas.RoleAssignment {
    init(_ assignment: Rahat_Auth_V1_RoleAssignment) {
        self.init(role: assignment.role, projectId: assignment.hasProjectID ? assignment.projectID : nil)
    }

    var proto: Rahat_Auth_V1_RoleAssignment {
        .with {
            $0.role = role
            if let projectId { $0.projectID = projectId }
        }
    }
}
