import CoreAPI
import FluentKit
import Foundation
import Messaging
import Persistence
import ServerKit
import SharedModels
import SwiftProtobuf

/// What a group is for (docs/domain.md).
enum GroupPurpose: String, Sendable, CaseIterable {
    case bankTransfer = "bank_transfer"
    case mobileMoney = "mobile_money"
    case communication
    case general
}

/// A group as the rest of the system sees it.
struct GroupInfo: Sendable, Equatable {
    var id: UUID
    var name: String
    var description: String?
    var purpose: GroupPurpose
    var memberCount: Int
    var createdAt: Date
    var updatedAt: Date
}

/// Changes to a group; `nil` leaves a field as it is.
struct GroupChanges: Sendable {
    var name: String?
    var description: String?
    var purpose: GroupPurpose?
}

/// A beneficiary's membership of a group.
struct GroupMemberInfo: Sendable, Equatable {
    var beneficiaryID: UUID
    var addedAt: Date
}

extension CoreDomain {
    // Groups are collections of beneficiaries, so the beneficiary permissions govern them.

    func createGroup(
        name: String, description: String?, purpose: GroupPurpose?, by caller: Principal
    ) async throws
        -> GroupInfo
    {
        try caller.require(Permission(.beneficiary, .create))
        var violations: [FieldViolation] = []
        let name = Self.validName(name, into: &violations)
        let description = description.map { Self.validDescription($0, into: &violations) }
        guard violations.isEmpty else { throw CoreError.invalidInput(violations) }
        let now = self.now()
        let row = GroupRow()
        row.id = UUID.v7(at: now)
        row.name = name
        row.groupDescription = description.flatMap { $0.isEmpty ? nil : $0 }
        row.purpose = (purpose ?? .general).rawValue
        row.createdBy = caller.userID
        row.createdAt = now
        row.updatedAt = now
        try await database.transaction { tx in
            try await GroupStore.create(row, on: tx)
            try await Outbox.append(CoreEvents.groupChanged(Rahat_Core_V1_GroupChanged.created, row, at: now), on: tx)
        }
        return try Self.groupInfo(row, memberCount: 0)
    }

    func getGroup(_ id: String, by caller: Principal) async throws -> GroupInfo {
        try caller.require(Permission(.beneficiary, .read))
        let row = try await findGroup(try parseID(id), on: db)
        return try Self.groupInfo(row, memberCount: try await memberCounts(of: [row.requireID()])[row.requireID()] ?? 0)
    }

    func listGroups(
        limit: Int, cursor: String?, purpose: GroupPurpose?, by caller: Principal
    ) async throws
        -> ([GroupInfo], String?)
    {
        try caller.require(Permission(.beneficiary, .read))
        let page = try PageRequest<UUID>.validate(limit: limit, cursor: cursor).get()
        let after = page.after
        return try await database.replicaRead { db in
            let found = try await GroupStore.page(after: after, purpose: purpose?.rawValue, limit: limit + 1, on: db)
            let (rows, next) = try page.page(of: found) { try $0.requireID() }
            let counts = try await GroupStore.memberCounts(of: try rows.map { try $0.requireID() }, on: try db.sql())
            return (try rows.map { try Self.groupInfo($0, memberCount: counts[try $0.requireID()] ?? 0) }, next)
        }
    }

    func updateGroup(_ id: String, changes: GroupChanges, by caller: Principal) async throws -> GroupInfo {
        try caller.require(Permission(.beneficiary, .update))
        let groupID = try parseID(id)
        var violations: [FieldViolation] = []
        let name = changes.name.map { Self.validName($0, into: &violations) }
        let description = changes.description.map { Self.validDescription($0, into: &violations) }
        if changes.name == nil && changes.description == nil && changes.purpose == nil {
            violations.append(FieldViolation(field: "body", reason: "must change at least one field"))
        }
        guard violations.isEmpty else { throw CoreError.invalidInput(violations) }
        let now = self.now()
        let row = try await database.transaction { tx in
            let row = try await findGroup(groupID, on: tx)
            if let name { row.name = name }
            if let description { row.groupDescription = description.isEmpty ? nil : description }
            if let purpose = changes.purpose { row.purpose = purpose.rawValue }
            row.updatedAt = now
            try await GroupStore.save(row, on: tx)
            try await Outbox.append(CoreEvents.groupChanged(Rahat_Core_V1_GroupChanged.updated, row, at: now), on: tx)
            return row
        }
        return try Self.groupInfo(row, memberCount: try await memberCounts(of: [groupID])[groupID] ?? 0)
    }

    func deleteGroup(_ id: String, by caller: Principal) async throws {
        try caller.require(Permission(.beneficiary, .delete))
        let groupID = try parseID(id)
        let now = self.now()
        try await database.transaction { tx in
            let row = try await findGroup(groupID, on: tx)
            try await GroupStore.delete(row, on: tx)
            try await Outbox.append(CoreEvents.groupChanged(Rahat_Core_V1_GroupChanged.deleted, row, at: now), on: tx)
        }
    }

    /// Adds beneficiaries to a group. Every id must name a live beneficiary; members already in
    /// the group are counted, not repeated.
    func addGroupMembers(
        groupID text: String, beneficiaryIDs: [String], by caller: Principal
    ) async throws
        -> (added: Int, alreadyMembers: Int)
    {
        try caller.require(Permission(.beneficiary, .update))
        let groupID = try parseID(text, field: "groupId")
        let ids = try parseIDBatch(beneficiaryIDs, field: "beneficiaryIds")
        let unique = Array(Set(ids))
        let now = self.now()
        let userID = caller.userID
        return try await database.transaction { tx in
            _ = try await findGroup(groupID, on: tx)
            try await requireLive(ids, field: "beneficiaryIds", on: tx)
            let (added, already) = try await addMembersBatch(unique, to: groupID, by: userID, at: now, on: tx)
            if !added.isEmpty {
                try await Outbox.append(
                    CoreEvents.groupMembersChanged(Rahat_Core_V1_GroupMembersChanged.added, groupID, added, at: now),
                    on: tx)
            }
            return (added.count, already)
        }
    }

    /// Adds up to one batch of beneficiaries to a group, skipping current members; returns those
    /// added and how many already were members.
    func addMembersBatch(
        _ ids: [UUID], to groupID: UUID, by userID: UUID, at now: Date, on db: any Database
    ) async throws -> (added: [UUID], alreadyMembers: Int) {
        guard !ids.isEmpty else { return ([], 0) }
        let already = Set(try await GroupStore.members(of: groupID, among: ids, on: db))
        let added = ids.filter { !already.contains($0) }.sorted()
        try await GroupStore.insertMembers(added, into: groupID, by: userID, at: now, on: db)
        return (added, already.count)
    }

    /// Removes beneficiaries from a group; ids that are not members are counted, not an error.
    func removeGroupMembers(
        groupID text: String, beneficiaryIDs: [String], by caller: Principal
    ) async throws
        -> (removed: Int, notMembers: Int)
    {
        try caller.require(Permission(.beneficiary, .update))
        let groupID = try parseID(text, field: "groupId")
        let unique = Array(Set(try parseIDBatch(beneficiaryIDs, field: "beneficiaryIds")))
        let now = self.now()
        return try await database.transaction { tx in
            _ = try await findGroup(groupID, on: tx)
            let present = try await GroupStore.members(of: groupID, among: unique, on: tx)
            if !present.isEmpty {
                try await GroupStore.deleteMembers(present, from: groupID, on: tx)
                try await Outbox.append(
                    CoreEvents.groupMembersChanged(
                        Rahat_Core_V1_GroupMembersChanged.removed, groupID, present, at: now), on: tx)
            }
            return (present.count, unique.count - present.count)
        }
    }

    func listGroupMembers(
        groupID text: String, limit: Int, cursor: String?, by caller: Principal
    ) async throws
        -> ([GroupMemberInfo], String?)
    {
        try caller.require(Permission(.beneficiary, .read))
        let groupID = try parseID(text, field: "groupId")
        let page = try PageRequest<UUID>.validate(limit: limit, cursor: cursor).get()
        let after = page.after
        let members = try await database.replicaRead { db in
            _ = try await findGroup(groupID, on: db)
            return try await GroupStore.memberPage(of: groupID, after: after, limit: limit + 1, on: db)
        }
        let (rows, next) = page.page(of: members) { $0.beneficiaryID }
        return (rows.map { GroupMemberInfo(beneficiaryID: $0.beneficiaryID, addedAt: $0.addedAt) }, next)
    }

    // MARK: Helpers

    /// Parses a batch of 1 to `maxBatch` ids, naming every malformed one.
    func parseIDBatch(_ texts: [String], field: String) throws -> [UUID] {
        guard (1...Self.maxBatch).contains(texts.count) else {
            throw CoreError.invalidInput([FieldViolation(field: field, reason: "must hold 1 to \(Self.maxBatch) ids")])
        }
        var violations: [FieldViolation] = []
        var ids: [UUID] = []
        for (index, text) in texts.enumerated() {
            if let id = UUID(text, field: "\(field)[\(index)]", into: &violations) { ids.append(id) }
        }
        guard violations.isEmpty else { throw CoreError.invalidInput(violations) }
        return ids
    }

    /// Throws naming each id (by position in `field`) that is not a live beneficiary, or (given a
    /// caller) not one the caller may read; returns the live ones. Both are answered alike, so the
    /// answer says nothing of people beyond the caller's reach.
    @discardableResult
    func requireLive(
        _ ids: [UUID], field: String, visibleTo caller: Principal? = nil, on db: any Database
    ) async throws -> Set<UUID> {
        guard !ids.isEmpty else { return [] }
        var live = Set(try await BeneficiaryStore.liveIDs(Array(Set(ids)), on: db))
        if let caller { live = try await readable(live, by: caller, on: db) }
        let missing = ids.enumerated().filter { !live.contains($0.element) }
        if !missing.isEmpty {
            throw CoreError.invalidInput(
                missing.map { FieldViolation(field: "\(field)[\($0.offset)]", reason: "no such beneficiary") }
            )
        }
        return live
    }

    /// Of `ids`, the beneficiaries `caller` may read: all of them with an unscoped
    /// `beneficiary:read`, else those enrolled in a project a scoped grant reaches.
    func readable(_ ids: Set<UUID>, by caller: Principal, on db: any Database) async throws -> Set<UUID> {
        if caller.permissions.allows(Permission(.beneficiary, .read)) { return ids }
        let projects = caller.permissions.grants.compactMap { grant -> UUID? in
            guard let scope = grant.projectID, grant.allows(Permission(.beneficiary, .read, projectID: scope))
            else { return nil }
            return UUID(uuidString: scope)
        }
        guard !projects.isEmpty, !ids.isEmpty else { return [] }
        return try await EnrolmentStore.enrolled(Array(ids), inAnyOf: projects, on: db)
    }

    func findGroup(_ id: UUID, on db: any Database) async throws -> GroupRow {
        guard let row = try await GroupStore.find(id, on: db) else { throw CoreError.groupNotFound }
        return row
    }

    /// Member counts for a page of groups, in one grouped query.
    private func memberCounts(of ids: [UUID]) async throws -> [UUID: Int] {
        try await GroupStore.memberCounts(of: ids, on: try db.sql())
    }

    static func groupInfo(_ row: GroupRow, memberCount: Int) throws -> GroupInfo {
        GroupInfo(
            id: try row.requireID(),
            name: row.name,
            description: row.groupDescription,
            purpose: GroupPurpose(rawValue: row.purpose) ?? .general,
            memberCount: memberCount,
            createdAt: row.createdAt,
            updatedAt: row.updatedAt
        )
    }
}
