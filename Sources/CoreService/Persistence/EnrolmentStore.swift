import FluentKit
import Foundation
import Persistence
import SharedModels

/// Enrolments (a beneficiary in a project) as stored.
enum EnrolmentStore {
    /// Beneficiaries looked up per query, well under either database's bind limit.
    static let lookupChunk = 500

    /// Which of `ids` are enrolled in the project.
    static func enrolled(_ ids: [UUID], in projectID: UUID, on database: any Database) async throws -> [UUID] {
        try await EnrolmentRow.query(on: database).filter(\.$projectID == projectID).filter(\.$beneficiaryID ~~ ids)
            .all().map(\.beneficiaryID)
    }

    /// Which of `ids` are enrolled in any of `projects`.
    static func enrolled(
        _ ids: [UUID], inAnyOf projects: [UUID], on database: any Database
    ) async throws -> Set<UUID> {
        Set(
            try await EnrolmentRow.query(on: database).filter(\.$beneficiaryID ~~ ids).filter(\.$projectID ~~ projects)
                .all().map(\.beneficiaryID))
    }

    /// Enrols `ids`, none of them enrolled yet, in the project.
    static func insert(
        _ ids: [UUID], in projectID: UUID, type: EnrolmentType, by userID: UUID, at now: Date,
        on database: any Database
    ) async throws {
        var insert = BulkInsert(
            into: EnrolmentRow.schema,
            columns: ["id", "project_id", "beneficiary_id", "type", "enrolled_by", "enrolled_at"])
        for id in ids {
            insert.append([
                .uuid(UUID.v7(at: now)), .uuid(projectID), .uuid(id), .text(type.rawValue), .uuid(userID), .date(now),
            ])
        }
        try await insert.run(on: database)
    }

    /// The beneficiary's enrolment in the project, or `nil`.
    static func find(
        _ beneficiaryID: UUID, in projectID: UUID, on database: any Database
    ) async throws -> EnrolmentRow? {
        try await EnrolmentRow.query(on: database).filter(\.$projectID == projectID)
            .filter(\.$beneficiaryID == beneficiaryID).first()
    }

    /// Removes an enrolment: the beneficiary leaves the project.
    static func delete(_ row: EnrolmentRow, on database: any Database) async throws {
        try await row.delete(on: database)
    }

    /// Up to `limit` of the project's enrolments in beneficiary id order, after `after`.
    static func page(
        of projectID: UUID, after: UUID?, limit: Int, on database: any Database
    ) async throws -> [EnrolmentRow] {
        var query = EnrolmentRow.query(on: database).filter(\.$projectID == projectID).sort(\.$beneficiaryID)
            .limit(limit)
        if let after { query = query.filter(\.$beneficiaryID > after) }
        return try await query.all()
    }

    /// The projects the beneficiary is enrolled in.
    static func projects(of beneficiaryID: UUID, on database: any Database) async throws -> [UUID] {
        try await EnrolmentRow.query(on: database).filter(\.$beneficiaryID == beneficiaryID).all().map(\.projectID)
    }

    /// The projects each of `ids` is enrolled in; those enrolled nowhere are absent.
    static func projects(of ids: [UUID], on database: any Database) async throws -> [UUID: [UUID]] {
        var projectsOf: [UUID: [UUID]] = [:]
        for chunk in ids.chunks(of: lookupChunk) {
            for enrolment in try await EnrolmentRow.query(on: database).filter(\.$beneficiaryID ~~ Array(chunk)).all() {
                projectsOf[enrolment.beneficiaryID, default: []].append(enrolment.projectID)
            }
        }
        return projectsOf
    }
}
