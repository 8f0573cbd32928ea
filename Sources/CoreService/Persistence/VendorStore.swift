import FluentKit
import Foundation
import SharedModels

/// Vendors and the projects they serve, as stored.
enum VendorStore {
    /// The vendor `id`, or `nil`.
    static func find(_ id: UUID, on database: any Database) async throws -> VendorRow? {
        try await VendorRow.find(id, on: database)
    }

    /// The vendor whose login is `userID`, or `nil`: a user is one vendor at most.
    static func find(user userID: UUID, on database: any Database) async throws -> VendorRow? {
        try await VendorRow.query(on: database).filter(\.$userID == userID).first()
    }

    /// Inserts a new vendor.
    static func create(_ row: VendorRow, on database: any Database) async throws {
        try await row.create(on: database)
    }

    /// Writes a changed vendor back.
    static func save(_ row: VendorRow, on database: any Database) async throws {
        try await row.save(on: database)
    }

    /// Up to `limit` vendors in id order after `after`, of `status`, serving `projectID` and
    /// signing in as `login` when given.
    static func page(
        after: UUID?, status: String?, serving projectID: UUID?, login: UUID? = nil, limit: Int,
        on database: any Database
    ) async throws -> [VendorRow] {
        var query = VendorRow.query(on: database).sort(\.$id).limit(limit)
        if let after { query = query.filter(\.$id > after) }
        if let login { query = query.filter(\.$userID == login) }
        if let status { query = query.filter(\.$status == status) }
        if let projectID {
            query = query.join(ProjectVendorRow.self, on: \VendorRow.$id == \ProjectVendorRow.$vendorID)
                .filter(ProjectVendorRow.self, \.$projectID == projectID)
        }
        return try await query.all()
    }

    /// The projects each of `vendors` serves, in project id order, in one query; vendors serving none are absent.
    static func projectIDs(of vendors: [UUID], on database: any Database) async throws -> [UUID: [UUID]] {
        let links = try await ProjectVendorRow.query(on: database).filter(\.$vendorID ~~ vendors).sort(\.$projectID)
            .all()
        return Dictionary(grouping: links, by: \.vendorID).mapValues { $0.map(\.projectID) }
    }

    /// The projects the vendor serves.
    static func projects(servedBy vendorID: UUID, on database: any Database) async throws -> [UUID] {
        try await ProjectVendorRow.query(on: database).filter(\.$vendorID == vendorID).all().map(\.projectID)
    }

    /// The vendor's assignment to the project, or `nil`.
    static func link(
        _ vendorID: UUID, to projectID: UUID, on database: any Database
    ) async throws -> ProjectVendorRow? {
        try await ProjectVendorRow.query(on: database).filter(\.$projectID == projectID)
            .filter(\.$vendorID == vendorID).first()
    }

    /// Assigns the vendor to the project.
    static func createLink(
        _ vendorID: UUID, to projectID: UUID, by userID: UUID, at now: Date, on database: any Database
    ) async throws {
        let link = ProjectVendorRow()
        link.id = UUID.v7(at: now)
        link.projectID = projectID
        link.vendorID = vendorID
        link.assignedBy = userID
        link.assignedAt = now
        try await link.create(on: database)
    }

    /// Unassigns the vendor from the project.
    static func deleteLink(_ link: ProjectVendorRow, on database: any Database) async throws {
        try await link.delete(on: database)
    }
}
