import FluentKit
import Foundation
import ServerKit
import SharedModels

/// How a beneficiary came into a project (DOMAIN.md).
enum EnrolmentType: String, Sendable {
    case enrolled, referred
}

/// A beneficiary's membership of a project.
struct EnrolmentInfo: Sendable, Equatable {
    var beneficiaryID: UUID
    var type: EnrolmentType
    var enrolledAt: Date
}

extension CoreDomain {
    /// Enrols beneficiaries in a project. Needs `project:update` for that project, so a manager
    /// scoped to one project enrols only there; a closed project takes no one new.
    func enrol(
        projectID text: String, beneficiaryIDs: [String], type: EnrolmentType, by caller: Principal
    ) async throws
        -> (enrolled: Int, alreadyEnrolled: Int)
    {
        let projectID = try parseID(text, field: "projectId")
        try require(Permission(.project, .update, projectID: projectID.lowercasedString), of: caller)
        guard (1...Self.maxBatch).contains(beneficiaryIDs.count) else {
            throw CoreError.invalidInput([
                FieldViolation(field: "beneficiaryIds", reason: "must hold 1 to \(Self.maxBatch) ids")
            ])
        }
        var violations: [FieldViolation] = []
        var ids: [UUID] = []
        for (index, text) in beneficiaryIDs.enumerated() {
            if let id = UUID(uuidString: text) {
                ids.append(id)
            } else {
                violations.append(FieldViolation(field: "beneficiaryIds[\(index)]", reason: "must be a UUID"))
            }
        }
        guard violations.isEmpty else { throw CoreError.invalidInput(violations) }
        let unique = Array(Set(ids))
        let now = self.now()
        let userID = caller.userID
        return try await db.transaction { tx in
            guard let project = try await ProjectRow.find(projectID, on: tx) else { throw CoreError.projectNotFound }
            guard project.status != ProjectStatus.closed.rawValue else { throw CoreError.projectClosed }
            let live = Set(
                try await BeneficiaryRow.query(on: tx).filter(\.$id ~~ unique).filter(\.$archivedAt == nil).all()
                    .compactMap(\.id)
            )
            let missing = beneficiaryIDs.enumerated().filter { _, text in
                UUID(uuidString: text).map { !live.contains($0) } ?? true
            }
            if !missing.isEmpty {
                throw CoreError.invalidInput(
                    missing.map { FieldViolation(field: "beneficiaryIds[\($0.offset)]", reason: "no such beneficiary") }
                )
            }
            let already = Set(
                try await EnrolmentRow.query(on: tx).filter(\.$projectID == projectID).filter(
                    \.$beneficiaryID ~~ unique
                )
                .all().map(\.beneficiaryID)
            )
            let rows = unique.filter { !already.contains($0) }.sorted { $0.uuidString < $1.uuidString }.map { id in
                let row = EnrolmentRow()
                row.id = UUID.v7(at: now)
                row.projectID = projectID
                row.beneficiaryID = id
                row.type = type.rawValue
                row.enrolledBy = userID
                row.enrolledAt = now
                return row
            }
            if !rows.isEmpty { try await rows.create(on: tx) }
            return (rows.count, already.count)
        }
    }

    func unenrol(projectID text: String, beneficiaryID beneficiaryText: String, by caller: Principal) async throws {
        let projectID = try parseID(text, field: "projectId")
        let beneficiaryID = try parseID(beneficiaryText, field: "beneficiaryId")
        try require(Permission(.project, .update, projectID: projectID.lowercasedString), of: caller)
        guard
            let row = try await EnrolmentRow.query(on: db).filter(\.$projectID == projectID)
                .filter(\.$beneficiaryID == beneficiaryID).first()
        else { throw CoreError.enrolmentNotFound }
        try await row.delete(on: db)
    }

    /// A project's beneficiaries; needs `beneficiary:read` for that project.
    func listEnrolments(
        projectID text: String, limit: Int, cursor: String?, by caller: Principal
    ) async throws
        -> ([EnrolmentInfo], String?)
    {
        let projectID = try parseID(text, field: "projectId")
        try require(Permission(.beneficiary, .read, projectID: projectID.lowercasedString), of: caller)
        let page = try PageRequest.validate(limit: limit, cursor: cursor).get()
        var violations: [FieldViolation] = []
        guard violations.isEmpty else { throw CoreError.invalidInput(violations) }
        guard try await ProjectRow.find(projectID, on: db) != nil else { throw CoreError.projectNotFound }
        var query = EnrolmentRow.query(on: db).filter(\.$projectID == projectID).sort(\.$beneficiaryID).limit(limit + 1)
        if let after = page.after { query = query.filter(\.$beneficiaryID > after) }
        let (rows, next) = try page.page(of: try await query.all()) { $0.beneficiaryID }
        let items = rows.map {
            EnrolmentInfo(
                beneficiaryID: $0.beneficiaryID, type: EnrolmentType(rawValue: $0.type) ?? .enrolled,
                enrolledAt: $0.enrolledAt)
        }
        return (items, next)
    }

    /// Whether `caller` may do `action` on one beneficiary: with an unscoped grant, or with a grant
    /// scoped to a project the beneficiary is enrolled in. A manager of project A thereby reaches
    /// A's beneficiaries and nobody else's.
    func allows(
        _ caller: Principal, _ subject: Permission.Subject, _ action: Permission.Action, beneficiary id: UUID
    )
        async throws -> Bool
    {
        if caller.permissions.allows(Permission(subject, action)) { return true }
        guard caller.permissions.allowsAnywhere(subject, action) else { return false }
        let projects = try await EnrolmentRow.query(on: db).filter(\.$beneficiaryID == id).all().map(\.projectID)
        return projects.contains {
            caller.permissions.allows(Permission(subject, action, projectID: $0.lowercasedString))
        }
    }
}
