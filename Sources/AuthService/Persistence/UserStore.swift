import FluentKit
import Foundation

/// Users as stored, and every statement that reads or changes them: the domain decides, this
/// writes it. Users are never deleted, only disabled.
enum UserStore {
    /// A user as stored, with the digest of its password.
    struct StoredUser: Sendable {
        var id: UUID
        var name: String
        var email: String
        var phone: String?
        var isActive: Bool
        var passwordHash: String?
        var locale: String?
        var timeZone: String?
        var createdAt: Date
        var updatedAt: Date
    }

    /// What an update writes: each field that is not nil, and `updated_at`.
    struct Changes: Sendable {
        var name: String?
        /// `.some(nil)` removes the phone number.
        var phone: String??
        var passwordHash: String?
        var status: UserStatus?
        /// `.some(nil)` removes the preference.
        var locale: String??
        /// `.some(nil)` removes the preference.
        var timeZone: String??
    }

    /// The user with `id`, or nil.
    static func user(_ id: UUID, on db: any Database) async throws -> StoredUser? {
        try await UserRow.find(id, on: db).map(user(from:))
    }

    /// The user signing in as `email` (stored lower-cased), or nil.
    static func user(withEmail email: String, on db: any Database) async throws -> StoredUser? {
        try await UserRow.query(on: db).filter(\.$email == email).first().map(user(from:))
    }

    /// Up to `limit` users in id order after `after`, only those in `status` when it is given.
    static func users(
        after: UUID?, status: UserStatus?, limit: Int, on db: any Database
    ) async throws -> [StoredUser] {
        var query = UserRow.query(on: db).sort(\.$id).limit(limit)
        if let after { query = query.filter(\.$id > after) }
        if let status { query = query.filter(\.$status == status.rawValue) }
        return try await query.all().map(user(from:))
    }

    /// Inserts an active user; the unique email index refuses a second user with the same email.
    static func insert(
        id: UUID, name: String, email: String, phone: String?, passwordHash: String, at now: Date,
        on db: any Database
    ) async throws -> StoredUser {
        let row = UserRow()
        row.id = id
        row.name = name
        row.email = email
        row.phone = phone
        row.status = UserStatus.active.rawValue
        row.passwordHash = passwordHash
        row.createdAt = now
        row.updatedAt = now
        try await row.create(on: db)
        return try user(from: row)
    }

    /// Writes `changes` to the user.
    static func apply(_ changes: Changes, to id: UUID, at now: Date, on db: any Database) async throws {
        var query = UserRow.query(on: db).filter(\.$id == id)
        if let name = changes.name { query = query.set(\.$name, to: name) }
        if let phone = changes.phone { query = query.set(\.$phone, to: phone) }
        if let passwordHash = changes.passwordHash { query = query.set(\.$passwordHash, to: passwordHash) }
        if let status = changes.status { query = query.set(\.$status, to: status.rawValue) }
        if let locale = changes.locale { query = query.set(\.$locale, to: locale) }
        if let timeZone = changes.timeZone { query = query.set(\.$timeZone, to: timeZone) }
        try await query.set(\.$updatedAt, to: now).update()
    }

    /// Sets the user's status.
    static func setStatus(_ id: UUID, _ status: UserStatus, at now: Date, on db: any Database) async throws {
        try await UserRow.query(on: db).filter(\.$id == id)
            .set(\.$status, to: status.rawValue).set(\.$updatedAt, to: now)
            .update()
    }

    /// Makes the user active again with a new password.
    static func activate(_ id: UUID, passwordHash: String, at now: Date, on db: any Database) async throws {
        try await UserRow.query(on: db).filter(\.$id == id)
            .set(\.$status, to: UserStatus.active.rawValue).set(\.$passwordHash, to: passwordHash)
            .set(\.$updatedAt, to: now)
            .update()
    }

    private static func user(from row: UserRow) throws -> StoredUser {
        StoredUser(
            id: try row.requireID(),
            name: row.name,
            email: row.email,
            phone: row.phone,
            isActive: row.status == UserStatus.active.rawValue,
            passwordHash: row.passwordHash,
            locale: row.locale,
            timeZone: row.timeZone,
            createdAt: row.createdAt,
            updatedAt: row.updatedAt
        )
    }
}

extension UserStore.StoredUser {
    /// The user as it is after `changes` were written at `now`.
    mutating func apply(_ changes: UserStore.Changes, at now: Date) {
        if let name = changes.name { self.name = name }
        if let phone = changes.phone { self.phone = phone }
        if let passwordHash = changes.passwordHash { self.passwordHash = passwordHash }
        if let status = changes.status { isActive = status == .active }
        if let locale = changes.locale { self.locale = locale }
        if let timeZone = changes.timeZone { self.timeZone = timeZone }
        updatedAt = now
    }
}
