import AuthAPI
import Foundation
import OpenAPIRuntime
import ServerKit
import SwiftProtobuf

extension APIHandler {
    func listApiKeys(_ input: Operations.ListApiKeys.Input) async throws -> Operations.ListApiKeys.Output {
        let response = try await auth.apiKeys.listApiKeys(
            Rahat_Auth_V1_ListApiKeysRequest(), metadata: asCaller)
        return .ok(.init(body: .json(.init(items: response.apiKeys.map(Components.Schemas.ApiKey.init)))))
    }

    func createApiKey(_ input: Operations.CreateApiKey.Input) async throws -> Operations.CreateApiKey.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let created = try await auth.apiKeys.createApiKey(
            .with {
                $0.name = body.name
                $0.permissions = body.permissions
                if let projectId = body.projectId { $0.projectID = projectId }
                if let expiresAt = body.expiresAt { $0.expiresAt = Google_Protobuf_Timestamp(date: expiresAt) }
            },
            metadata: asCaller
        )
        let key = created.apiKey
        return .created(
            .init(
                body: .json(
                    .init(
                        id: key.id,
                        key: created.key,
                        name: key.name,
                        prefix: key.prefix,
                        permissions: key.permissions,
                        projectId: key.hasProjectID ? key.projectID : nil,
                        ownerId: key.ownerID,
                        expiresAt: key.hasExpiresAt ? key.expiresAt.date : nil,
                        createdAt: key.createdAt.date
                    )
                )
            )
        )
    }

    func getApiKey(_ input: Operations.GetApiKey.Input) async throws -> Operations.GetApiKey.Output {
        let key = try await auth.apiKeys.getApiKey(.with { $0.id = input.path.id }, metadata: asCaller)
        return .ok(.init(body: .json(.init(key))))
    }

    func revokeApiKey(_ input: Operations.RevokeApiKey.Input) async throws -> Operations.RevokeApiKey.Output {
        _ = try await auth.apiKeys.revokeApiKey(.with { $0.id = input.path.id }, metadata: asCaller)
        return .noContent(.init())
    }
}

extension Components.Schemas.ApiKey {
    init(_ key: Rahat_Auth_V1_ApiKey) {
        self.init(
            id: key.id,
            name: key.name,
            prefix: key.prefix,
            permissions: key.permissions,
            projectId: key.hasProjectID ? key.projectID : nil,
            ownerId: key.ownerID,
            expiresAt: key.hasExpiresAt ? key.expiresAt.date : nil,
            lastUsedAt: key.hasLastUsedAt ? key.lastUsedAt.date : nil,
            revokedAt: key.hasRevokedAt ? key.revokedAt.date : nil,
            createdAt: key.createdAt.date
        )
    }
}
