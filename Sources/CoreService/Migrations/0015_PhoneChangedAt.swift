import FluentKit

/// When a beneficiary's phone last changed on an existing record: redemption waits out a
/// cooling-off period after it, so that a number changed by someone else is noticed (its old
/// owner is told) before value can be sent to it.
struct AddPhoneChangedAt: AsyncMigration {
    var name: String { "core.0015_AddPhoneChangedAt" }

    func prepare(on database: any Database) async throws {
        try await database.schema("beneficiaries").field("phone_changed_at", .datetime).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("beneficiaries").deleteField("phone_changed_at").update()
    }
}
