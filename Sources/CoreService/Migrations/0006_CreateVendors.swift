import FluentKit
import SQLKit

struct CreateVendors: AsyncMigration {
    var name: String { "core.0006_CreateVendors" }

    func prepare(on database: any Database) async throws {
        try await database.schema(VendorRow.schema)
            .field("id", .uuid, .identifier(auto: false))
            .field("user_id", .uuid, .required)
            .field("name", .string, .required)
            .field("phone", .string)
            .field("email", .string)
            .field("location", .string)
            .field("payout_type", .string, .required)
            .field("bank_name", .string)
            .field("account_name", .string)
            .field("account_number", .string)
            .field("branch", .string)
            .field("bic", .string)
            .field("provider", .string)
            .field("mobile_number", .string)
            .field("status", .string, .required)
            .field("created_by", .uuid, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .field("deactivated_at", .datetime)
            // One vendor record per login: the auth user is how a vendor proves who it is.
            .unique(on: "user_id")
            .create()
        try await database.schema(ProjectVendorRow.schema)
            .field("id", .uuid, .identifier(auto: false))
            .field("project_id", .uuid, .required, .references(ProjectRow.schema, "id"))
            .field("vendor_id", .uuid, .required, .references(VendorRow.schema, "id"))
            .field("assigned_by", .uuid, .required)
            .field("assigned_at", .datetime, .required)
            .unique(on: "project_id", "vendor_id")
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "project_vendors_vendor_idx").on(ProjectVendorRow.schema).column("vendor_id").run()
        try await sql.create(index: "vendors_status_idx").on(VendorRow.schema).column("status").column("id").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ProjectVendorRow.schema).delete()
        try await database.schema(VendorRow.schema).delete()
    }
}
