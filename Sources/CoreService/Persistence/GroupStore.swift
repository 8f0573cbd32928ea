import FluentKit
import Foundation
import SQLKit

/// Groups and their members as stored.
enum GroupStore {
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
