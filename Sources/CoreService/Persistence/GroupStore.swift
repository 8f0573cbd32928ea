import FluentKit
import Foundation
import Persistence
import SQLKit
import SharedModels

/// Groups and their members as stored.
enum GroupStore {
    /// The group `id`, or `nil`.
    static func find(_ id: UUID, on database: any Database) async throws -> GroupRow? {
        try await GroupRow.find(id, on: database)
    }

    /// Inserts a new group.
    static func create(_ row: GroupRow, on database: any Database) async throws {
        try await row.create(on: database)
    }

    /// Writes a changed group back.
    static func save(_ row: GroupRow, on database: any Database) async throws {
        try await row.save(on: database)
    }

    /// Deletes a group with its memberships, these first.
    static func delete(_ row: GroupRow, on database: any Database) async throws {
        let groupID = try row.requireID()
        try await GroupMemberRow.query(on: database).filter(\.$groupID == groupID).delete()
        try await row.delete(on: database)
    }

    /// Up to `limit` groups in id order after `after`, of `purpose` when given.
    static func page(after: UUID?, purpose: String?, limit: Int, on database: any Database) async throws -> [GroupRow] {
        var query = GroupRow.query(on: database).sort(\.$id).limit(limit)
        if let after { query = query.filter(\.$id > after) }
        if let purpose { query = query.filter(\.$purpose == purpose) }
        return try await query.all()
    }

    /// Which of `ids` are members of the group.
    static func members(of groupID: UUID, among ids: [UUID], on database: any Database) async throws -> [UUID] {
        try await GroupMemberRow.query(on: database).filter(\.$groupID == groupID).filter(\.$beneficiaryID ~~ ids)
            .all().map(\.beneficiaryID)
    }

    /// Up to `limit` of the group's memberships in beneficiary id order, after `after`.
    static func memberPage(
        of groupID: UUID, after: UUID?, limit: Int, on database: any Database
    ) async throws -> [GroupMemberRow] {
        var query = GroupMemberRow.query(on: database).filter(\.$groupID == groupID).sort(\.$beneficiaryID)
            .limit(limit)
        if let after { query = query.filter(\.$beneficiaryID > after) }
        return try await query.all()
    }

    /// Adds `ids`, none of them members yet, to the group.
    static func insertMembers(
        _ ids: [UUID], into groupID: UUID, by userID: UUID, at now: Date, on database: any Database
    ) async throws {
        var insert = BulkInsert(
            into: GroupMemberRow.schema, columns: ["id", "group_id", "beneficiary_id", "added_by", "added_at"])
        for id in ids {
            insert.append([.uuid(UUID.v7(at: now)), .uuid(groupID), .uuid(id), .uuid(userID), .date(now)])
        }
        try await insert.run(on: database)
    }

    /// Removes `ids` from the group.
    static func deleteMembers(_ ids: [UUID], from groupID: UUID, on database: any Database) async throws {
        try await GroupMemberRow.query(on: database).filter(\.$groupID == groupID).filter(\.$beneficiaryID ~~ ids)
            .delete()
    }

    /// Member counts of the groups `ids`, in one grouped query; groups without members are absent.
    static func memberCounts(of ids: [UUID], on sql: any SQLDatabase) async throws -> [UUID: Int] {
        guard !ids.isEmpty else { return [:] }
        struct Count: Decodable {
            var group_id: UUID
            var members: Int
        }
        let rows = try await sql.select()
            .column("group_id")
            .column(SQLFunction("COUNT", args: SQLLiteral.all), as: "members")
            .from(GroupMemberRow.schema)
            .where("group_id", .in, ids)
            .groupBy("group_id")
            .all(decoding: Count.self)
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.group_id, $0.members) })
    }
}
