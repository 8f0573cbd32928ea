import FluentKit
import SQLKit

struct CreateBeneficiaries: AsyncMigration {
    var name: String { "core.0003_CreateBeneficiaries" }

    func prepare(on database: any Database) async throws {
        try await database.schema(BeneficiaryRow.schema)
            .field("id", .uuid, .identifier(auto: false))
            .field("name_sealed", .string, .required)
            .field("phone_sealed", .string)
            .field("email_sealed", .string)
            .field("national_id_sealed", .string)
            .field("phone_index", .string)
            .field("national_id_index", .string)
            .field("gender", .string, .required)
            .field("birth_date", .string)
            .field("location", .string)
            .field("latitude", .double)
            .field("longitude", .double)
            .field("banked_status", .string, .required)
            .field("internet_status", .string, .required)
            .field("phone_status", .string, .required)
            .field("wallet_address", .string)
            .field("verification_status", .string, .required)
            .field("verification_reason", .string)
            .field("extras", .string, .required)
            .field("created_by", .uuid, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .field("archived_at", .datetime)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        // Exact lookups and duplicate checks go through the blind indexes and the wallet address;
        // the rest are the list filters, each ending in id for keyset pagination.
        try await sql.create(index: "beneficiaries_phone_index_idx").on(BeneficiaryRow.schema).column("phone_index")
            .run()
        try await sql.create(index: "beneficiaries_national_id_index_idx").on(BeneficiaryRow.schema)
            .column("national_id_index").run()
        try await sql.create(index: "beneficiaries_wallet_address_idx").on(BeneficiaryRow.schema).unique()
            .column("wallet_address").run()
        for column in [
            "gender", "verification_status", "banked_status", "internet_status", "phone_status", "created_at",
        ] {
            try await sql.create(index: "beneficiaries_\(column)_idx").on(BeneficiaryRow.schema).column(column).column(
                "id"
            )
            .run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(BeneficiaryRow.schema).delete()
    }
}
