import AuthAPI
import Foundation
import OpenAPIRuntime
import ServerKit
import SwiftProtobuf

extension APIHandler {
    func listUsers(_ input: Operations.ListUsers.Input) async throws -> Operations.ListUsers.Output {
        let response = try await auth.users.listUsers(
            .with {
                $0.page(limit: input.query.limit, cursor: input.query.cursor)
                if let status = input.query.status { $0.status = status == .active ? .active : .disabled }
            },
            metadata: asCaller
        )
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: response.users.map(Components.Schemas.User.init),
                        nextCursor: response.next
                    )
                )
            )
        )
    }

    func createUser(_ input: Operations.CreateUser.Input) async throws -> Operations.CreateUser.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let user = try await auth.users.createUser(
            .with {
                $0.name = body.name
                $0.email = body.email
                $0.password = body.password
                if let phone = body.phone { $0.phone = phone }
                $0.roles = (body.roles ?? []).map(\.proto)
            },
            metadata: asCaller
        )
        return .created(.init(headers: .init(location: "/v1/users/\(user.id)"), body: .json(.init(user))))
    }

    func getUser(_ input: Operations.GetUser.Input) async throws -> Operations.GetUser.Output {
        let user = try await auth.users.getUser(.with { $0.id = input.path.id }, metadata: asCaller)
        return .ok(.init(body: .json(.init(user))))
    }

    func updateUser(_ input: Operations.UpdateUser.Input) async throws -> Operations.UpdateUser.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        if body.name == nil && body.phone == nil && body.status == nil && body.password == nil && body.locale == nil
            && body.timeZone == nil
        {
            throw ServiceError.invalid(field: "body", "must change at least one field")
        }
        let user = try await auth.users.updateUser(
            .with {
                $0.id = input.path.id
                if let name = body.name { $0.name = name }
                if let phone = body.phone { $0.phone = phone }
                if let status = body.status { $0.status = status == .active ? .active : .disabled }
                if let password = body.password { $0.password = password }
                if let currentPassword = body.currentPassword { $0.currentPassword = currentPassword }
                if let locale = body.locale { $0.locale = locale }
                if let timeZone = body.timeZone { $0.timeZone = timeZone }
            },
            metadata: asCaller
        )
        return .ok(.init(body: .json(.init(user))))
    }

    func deleteUser(_ input: Operations.DeleteUser.Input) async throws -> Operations.DeleteUser.Output {
        _ = try await auth.users.deleteUser(.with { $0.id = input.path.id }, metadata: asCaller)
        return .noContent(.init())
    }

    func listUserRoles(_ input: Operations.ListUserRoles.Input) async throws -> Operations.ListUserRoles.Output {
        let roles = try await auth.users.listUserRoles(
            .with { $0.userID = input.path.id }, metadata: asCaller)
        return .ok(.init(body: .json(.init(items: roles.roles.map(Components.Schemas.RoleAssignment.init)))))
    }

    func setUserRoles(_ input: Operations.SetUserRoles.Input) async throws -> Operations.SetUserRoles.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let roles = try await auth.users.setUserRoles(
            .with {
                $0.userID = input.path.id
                $0.roles = body.roles.map(\.proto)
            },
            metadata: asCaller
        )
        return .ok(.init(body: .json(.init(items: roles.roles.map(Components.Schemas.RoleAssignment.init)))))
    }
}
