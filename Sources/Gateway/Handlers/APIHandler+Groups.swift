import CoreAPI
import Foundation
import OpenAPIRuntime
import ServerKit
import SwiftProtobuf

extension APIHandler {
    func listGroups(_ input: Operations.ListGroups.Input) async throws -> Operations.ListGroups.Output {
        let response = try await core.groups.listGroups(
            .with {
                $0.page(limit: input.query.limit, cursor: input.query.cursor)
                if let purpose = input.query.purpose { $0.purpose = purpose.proto }
            },
            metadata: asCaller
        )
        let items = response.groups.map(Components.Schemas.Group.init)
        return .ok(
            .init(body: .json(.init(items: items, nextCursor: response.next))))
    }

    func createGroup(_ input: Operations.CreateGroup.Input) async throws -> Operations.CreateGroup.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let group = try await core.groups.createGroup(
            .with {
                $0.name = body.name
                if let description = body.description { $0.description_p = description }
                if let purpose = body.purpose { $0.purpose = purpose.proto }
            },
            metadata: asCaller
        )
        return .created(.init(headers: .init(location: "/v1/groups/\(group.id)"), body: .json(.init(group))))
    }

    func getGroup(_ input: Operations.GetGroup.Input) async throws -> Operations.GetGroup.Output {
        let group = try await core.groups.getGroup(.with { $0.id = input.path.id }, metadata: asCaller)
        return .ok(.init(body: .json(.init(group))))
    }

    func updateGroup(_ input: Operations.UpdateGroup.Input) async throws -> Operations.UpdateGroup.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let group = try await core.groups.updateGroup(
            .with {
                $0.id = input.path.id
                if let name = body.name { $0.name = name }
                if let description = body.description { $0.description_p = description }
                if let purpose = body.purpose { $0.purpose = purpose.proto }
            },
            metadata: asCaller
        )
        return .ok(.init(body: .json(.init(group))))
    }

    func deleteGroup(_ input: Operations.DeleteGroup.Input) async throws -> Operations.DeleteGroup.Output {
        _ = try await core.groups.deleteGroup(.with { $0.id = input.path.id }, metadata: asCaller)
        return .noContent(.init())
    }

    func listGroupMembers(
        _ input: Operations.ListGroupMembers.Input
    ) async throws -> Operations.ListGroupMembers.Output {
        let response = try await core.groups.listGroupMembers(
            .with {
                $0.groupID = input.path.id
                $0.page(limit: input.query.limit, cursor: input.query.cursor)
            },
            metadata: asCaller
        )
        let items = response.members.map {
            Components.Schemas.GroupMember(beneficiaryId: $0.beneficiaryID, addedAt: $0.addedAt.date)
        }
        return .ok(
            .init(body: .json(.init(items: items, nextCursor: response.next))))
    }

    func addGroupMembers(_ input: Operations.AddGroupMembers.Input) async throws -> Operations.AddGroupMembers.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let result = try await core.groups.addGroupMembers(
            .with {
                $0.groupID = input.path.id
                $0.beneficiaryIds = body.beneficiaryIds
            },
            metadata: asCaller
        )
        return .ok(.init(body: .json(.init(changed: Int(result.changed), unchanged: Int(result.unchanged)))))
    }

    func removeGroupMembers(
        _ input: Operations.RemoveGroupMembers.Input
    ) async throws -> Operations.RemoveGroupMembers.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let result = try await core.groups.removeGroupMembers(
            .with {
                $0.groupID = input.path.id
                $0.beneficiaryIds = body.beneficiaryIds
            },
            metadata: asCaller
        )
        return .ok(.init(body: .json(.init(changed: Int(result.changed), unchanged: Int(result.unchanged)))))
    }
}

extension Components.Schemas.Group {
    init(_ group: Rahat_Core_V1_Group) {
        self.init(
            id: group.id,
            name: group.name,
            description: group.hasDescription_p ? group.description_p : nil,
            purpose: Components.Schemas.GroupPurpose(group.purpose),
            memberCount: Int(group.memberCount),
            createdAt: group.createdAt.date,
            updatedAt: group.updatedAt.date
        )
    }
}

extension Components.Schemas.GroupPurpose {
    init(_ purpose: Rahat_Core_V1_GroupPurpose) {
        switch purpose {
        case .bankTransfer: self = .bankTransfer
        case .mobileMoney: self = .mobileMoney
        case .communication: self = .communication
        default: self = .general
        }
    }

    var proto: Rahat_Core_V1_GroupPurpose {
        switch self {
        case .bankTransfer: .bankTransfer
        case .mobileMoney: .mobileMoney
        case .communication: .communication
        case .general: .general
        }
    }
}
