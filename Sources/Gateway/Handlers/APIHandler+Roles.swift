import AuthAPI
import Foundation
import OpenAPIRuntime
import ServerKit
import SwiftProtobuf

extension APIHandler {
    func listRoles(_ input: Operations.ListRoles.Input) async throws -> Operations.ListRoles.Output {
        let response = try await auth.roles.listRoles(
            Rahat_Auth_V1_ListRolesRequest(), metadata: asCaller)
        return .ok(.init(body: .json(.init(items: response.roles.map(Components.Schemas.Role.init)))))
    }

    func createRole(_ input: Operations.CreateRole.Input) async throws -> Operations.CreateRole.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let role = try await auth.roles.createRole(
            .with {
                $0.name = body.name
                if let description = body.description { $0.description_p = description }
                $0.permissions = body.permissions
            },
            metadata: asCaller
        )
        return .created(.init(body: .json(.init(role))))
    }

    func getRole(_ input: Operations.GetRole.Input) async throws -> Operations.GetRole.Output {
        let role = try await auth.roles.getRole(.with { $0.name = input.path.name }, metadata: asCaller)
        return .ok(.init(body: .json(.init(role))))
    }

    func deleteRole(_ input: Operations.DeleteRole.Input) async throws -> Operations.DeleteRole.Output {
        _ = try await auth.roles.deleteRole(.with { $0.name = input.path.name }, metadata: asCaller)
        return .noContent(.init())
    }
}

extension Components.Schemas.Role {
    init(_ role: Rahat_Auth_V1_Role) {
        self.init(
            name: role.name,
            description: role.hasDescription_p ? role.description_p : nil,
            builtIn: role.builtIn,
            permissions: role.permissions,
            createdAt: role.hasCreatedAt ? role.createdAt.date : nil
        )
    }
}
