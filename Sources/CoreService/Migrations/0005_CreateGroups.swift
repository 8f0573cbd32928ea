import FluentKit
import SQLKit

struct CreateGroups: AsyncMigration {
    var name: String { "core.0005_CreateGroups" }

    func prepare(on database: any Database) async throws {
        try await database.schema(GroupRow.schema)
            .field("id", .uuid, .identifier(auto: false))
            .field("name", .string, .required)
            .field("description", .string)
            .field("purpose", .string, .required)
            .field("created_by", .uuid, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .create()
        try await database.schema(GroupMemberRow.schema)
            .field("id", .uuid, .identifier(auto: false))
            .field("group_id", .uuid, .required, .references(GroupRow.schema, "id", onDelete: .cascade))
            .field("beneficiary_id", .uuid, .required, .references(BeneficiaryRow.schema, "id"))
            .field("added_by", .uuid, .required)
            .field("added_at", .datetime, .required)
            .unique(on: "group_id", "beneficiary_id")
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        // Listing a group's members walks the unique (group_id, beneficiary_id) index; filtering
        // beneficiaries by group and counting members use it too. This one finds a person's groups.
        try await sql.create(index: "group_members_beneficiary_idx").on(GroupMemberRow.schema)
            .column("beneficiary_id").run()
        try await sql.create(index: "groups_purpose_idx").on(GroupRow.schema).column("purpose").column("id").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(GroupMemberRow.schema).delete()
        try await database.schema(GroupRow.schema).delete()
    }
}
