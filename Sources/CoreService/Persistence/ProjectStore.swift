import FluentKit
import Foundation
import SharedModels

/// Projects as stored.
enum ProjectStore {
    /// Projects looked up per query, well under either database's bind limit.
    static let lookupChunk = 500

    /// The project `id`, or `nil`.
    static func find(_ id: UUID, on database: any Database) async throws -> ProjectRow? {
        try await ProjectRow.find(id, on: database)
    }

    /// Inserts a new project.
    static func create(_ row: ProjectRow, on database: any Database) async throws {
        try await row.create(on: database)
    }

    /// Writes a changed project back.
    static func save(_ row: ProjectRow, on database: any Database) async throws {
        try await row.save(on: database)
    }

    /// Up to `limit` projects in id order after `after`, of `status` and `type` when given, and
    /// among `only` when given.
    static func page(
        after: UUID?, status: String?, type: String?, only: [UUID]?, limit: Int, on database: any Database
    ) async throws -> [ProjectRow] {
        var query = ProjectRow.query(on: database).sort(\.$id).limit(limit)
        if let after { query = query.filter(\.$id > after) }
        if let status { query = query.filter(\.$status == status) }
        if let type { query = query.filter(\.$type == type) }
        if let only { query = query.filter(\.$id ~~ only) }
        return try await query.all()
    }

    /// The default country of each of `ids` that names one.
    static func defaultCountries(of ids: [UUID], on database: any Database) async throws -> [UUID: String] {
        var countryOf: [UUID: String] = [:]
        for chunk in ids.chunks(of: lookupChunk) {
            for project in try await ProjectRow.query(on: database).filter(\.$id ~~ Array(chunk)).all() {
                if let id = project.id, let country = project.defaultCountry { countryOf[id] = country }
            }
        }
        return countryOf
    }
}
