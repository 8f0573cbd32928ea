import FluentKit

/// The language and time zone a user reads the console in, kept with the user so that they follow
/// them from one browser to another and a shared laptop does not carry one user's to the next.
struct AddUserPreferences: AsyncMigration {
    var name: String { "auth.0007_AddUserPreferences" }

    func prepare(on database: any Database) async throws {
        // One column a statement: SQLite adds no more.
        try await database.schema("users").field("locale", .string).update()
        try await database.schema("users").field("time_zone", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("users").deleteField("time_zone").update()
        try await database.schema("users").deleteField("locale").update()
    }
}
