import CoreAPI
import Foundation
import GRPCCore
import ServerKit
import SharedModels
import SwiftProtobuf

/// `rahat.core.v1.GroupService` over the core domain.
struct GroupRPC: Rahat_Core_V1_GroupService.SimpleServiceProtocol {
    let domain: CoreDomain

    func createGroup(
        request: Rahat_Core_V1_CreateGroupRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_Group {
        let group = try await domain.createGroup(
            name: request.name,
            description: request.hasDescription_p ? request.description_p : nil,
            purpose: GroupPurpose(request.purpose),
            by: try await domain.caller()
        )
        return Rahat_Core_V1_Group(group)
    }

    func getGroup(request: Rahat_Core_V1_GetGroupRequest, context: ServerContext) async throws -> Rahat_Core_V1_Group {
        Rahat_Core_V1_Group(try await domain.getGroup(request.id, by: try await domain.caller()))
    }

    func listGroups(
        request: Rahat_Core_V1_ListGroupsRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_ListGroupsResponse {
        let (groups, next) = try await domain.listGroups(
            limit: request.limit == 0 ? 50 : Int(request.limit),
            cursor: request.hasCursor ? request.cursor : nil,
            purpose: request.hasPurpose ? GroupPurpose(request.purpose) : nil,
            by: try await domain.caller()
        )
        return .with {
            $0.groups = groups.map(Rahat_Core_V1_Group.init)
            if let next { $0.nextCursor = next }
        }
    }

    func updateGroup(
        request: Rahat_Core_V1_UpdateGroupRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_Group {
        let changes = GroupChanges(
            name: request.hasName ? request.name : nil,
            description: request.hasDescription_p ? request.description_p : nil,
            purpose: request.hasPurpose ? GroupPurpose(request.purpose) : nil
        )
        return Rahat_Core_V1_Group(
            try await domain.updateGroup(request.id, changes: changes, by: try await domain.caller()))
    }

    func deleteGroup(
        request: Rahat_Core_V1_DeleteGroupRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_DeleteGroupResponse {
        try await domain.deleteGroup(request.id, by: try await domain.caller())
        return Rahat_Core_V1_DeleteGroupResponse()
    }

    func addGroupMembers(
        request: Rahat_Core_V1_GroupMembersRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_GroupMembersResponse {
        let (added, already) = try await domain.addGroupMembers(
            groupID: request.groupID, beneficiaryIDs: request.beneficiaryIds, by: try await domain.caller())
        return .with {
            $0.changed = Int32(added)
            $0.unchanged = Int32(already)
        }
    }

    func removeGroupMembers(
        request: Rahat_Core_V1_GroupMembersRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_GroupMembersResponse {
        let (removed, absent) = try await domain.removeGroupMembers(
            groupID: request.groupID, beneficiaryIDs: request.beneficiaryIds, by: try await domain.caller())
        return .with {
            $0.changed = Int32(removed)
            $0.unchanged = Int32(absent)
        }
    }

    func listGroupMembers(
        request: Rahat_Core_V1_ListGroupMembersRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_ListGroupMembersResponse {
        let (members, next) = try await domain.listGroupMembers(
            groupID: request.groupID,
            limit: request.limit == 0 ? 50 : Int(request.limit),
            cursor: request.hasCursor ? request.cursor : nil,
            by: try await domain.caller()
        )
        return .with {
            $0.members = members.map { member in
                .with {
                    $0.beneficiaryID = member.beneficiaryID.lowercasedString
                    $0.addedAt = Google_Protobuf_Timestamp(date: member.addedAt)
                }
            }
            if let next { $0.nextCursor = next }
        }
    }
}

extension GroupPurpose {
    /// Unspecified (or unknown to this version) means general.
    init(_ purpose: Rahat_Core_V1_GroupPurpose) {
        switch purpose {
        case .bankTransfer: self = .bankTransfer
        case .mobileMoney: self = .mobileMoney
        case .communication: self = .communication
        case .general, .unspecified, .UNRECOGNIZED: self = .general
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

extension Rahat_Core_V1_Group {
    init(_ group: GroupInfo) {
        self = .with {
            $0.id = group.id.lowercasedString
            $0.name = group.name
            if let description = group.description { $0.description_p = description }
            $0.purpose = group.purpose.proto
            $0.memberCount = Int32(clamping: group.memberCount)
            $0.createdAt = Google_Protobuf_Timestamp(date: group.createdAt)
            $0.updatedAt = Google_Protobuf_Timestamp(date: group.updatedAt)
        }
    }
}
