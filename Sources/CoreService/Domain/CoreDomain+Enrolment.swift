import FluentKit
import Foundation
import Persistence
import ServerKit
import SharedModels

/// How a beneficiary came into a project (docs/domain.md).
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
    /// How many group members one step of a group enrolment reads and writes.
    static let groupWalkBatch = 250

    /// Enrols beneficiaries in a project: those named, every member of `groupID`, and every live
    /// beneficiary `filter` matches, as given. Needs `project:update` for that project, so a manager
    /// scoped to one project enrols only there, and `beneficiary:read` to enrol by group or filter;
    /// a named beneficiary must be one the caller may read (``readable(_:by:on:)``), or the
    /// enrolment would widen the caller's reach. A closed project takes no one new.
    /// Already-enrolled beneficiaries are counted.
    func enrol(
        projectID text: String, beneficiaryIDs: [String], groupID groupText: String?, filter: BeneficiaryFilter?,
        type: EnrolmentType, by caller: Principal
    ) async throws
        -> (enrolled: Int, alreadyEnrolled: Int)
    {
        let projectID = try parseID(text, field: "projectId")
        try caller.require(Permission(.project, .update, projectID: projectID.lowercasedString))
        var violations: [FieldViolation] = []
        let groupID = parseID(groupText, field: "groupId", into: &violations)
        let resolved = filter.map { resolve($0, field: { "filter.\($0)" }, into: &violations) }
        if let resolved, resolved.isEmpty {
            violations.append(
                FieldViolation(field: "filter", reason: "must name at least one criterion; it would match everyone"))
        }
        if groupText == nil && filter == nil && beneficiaryIDs.isEmpty {
            violations.append(
                FieldViolation(field: "beneficiaryIds", reason: "name beneficiaries, a group, or a filter"))
        }
        guard violations.isEmpty else { throw CoreError.invalidInput(violations) }
        if groupID != nil { try caller.require(Permission(.beneficiary, .read)) }
        if let resolved {
            // The filter reads the registry; a grant scoped to its source project suffices.
            try caller.require(Permission(.beneficiary, .read, projectID: resolved.projectID?.lowercasedString))
            if let filter, filter.phone != nil || filter.nationalID != nil {
                try caller.require(
                    Permission(.beneficiaryPII, .read, projectID: resolved.projectID?.lowercasedString))
            }
        }
        let ids = beneficiaryIDs.isEmpty ? [] : try parseIDBatch(beneficiaryIDs, field: "beneficiaryIds")
        let now = self.now()
        let userID = caller.userID
        return try await database.transaction { tx in
            guard let project = try await ProjectStore.find(projectID, on: tx) else { throw CoreError.projectNotFound }
            guard project.status != ProjectStatus.closed.rawValue else { throw CoreError.projectClosed }
            let unique = Array(Set(ids))
            // Enrolling someone would let the caller read them: only people the caller may read already.
            let live = try await requireLive(ids, field: "beneficiaryIds", visibleTo: caller, on: tx)
            var totals = try await enrolBatch(unique, in: projectID, type: type, by: userID, at: now, on: tx)
            func add(_ batch: (enrolled: Int, alreadyEnrolled: Int)) {
                totals.enrolled += batch.enrolled
                totals.alreadyEnrolled += batch.alreadyEnrolled
            }
            if let groupID {
                _ = try await findGroup(groupID, on: tx)
                // A group may hold far more than one request's batch: walk it by keyset, a batch at a time.
                var after: UUID?
                while true {
                    let members = try await GroupStore.memberPage(
                        of: groupID, after: after, limit: Self.groupWalkBatch, on: tx
                    ).map(\.beneficiaryID)
                    guard let last = members.last else { break }
                    // Archived people stay in their groups for the record but are enrolled nowhere new.
                    let fresh = try await BeneficiaryStore.liveIDs(members, on: tx).filter { !live.contains($0) }
                    add(try await enrolBatch(fresh, in: projectID, type: type, by: userID, at: now, on: tx))
                    after = last
                }
            }
            if let resolved {
                if let groupID = resolved.groupID { _ = try await findGroup(groupID, on: tx) }
                // Walked by keyset like a group, so a filter matching a million people holds one batch at a time.
                var after: UUID?
                while true {
                    let matched = try await BeneficiaryStore.matching(
                        resolved, after: after, limit: Self.groupWalkBatch, on: tx
                    ).compactMap(\.id)
                    guard let last = matched.last else { break }
                    let fresh = matched.filter { !live.contains($0) }
                    add(try await enrolBatch(fresh, in: projectID, type: type, by: userID, at: now, on: tx))
                    after = last
                }
            }
            return totals
        }
    }

    /// Enrols up to one batch of live beneficiaries, skipping those already enrolled.
    func enrolBatch(
        _ ids: [UUID], in projectID: UUID, type: EnrolmentType, by userID: UUID, at now: Date, on tx: any Database
    ) async throws -> (enrolled: Int, alreadyEnrolled: Int) {
        guard !ids.isEmpty else { return (0, 0) }
        let already = Set(try await EnrolmentStore.enrolled(ids, in: projectID, on: tx))
        let fresh = ids.filter { !already.contains($0) }.sorted()
        try await EnrolmentStore.insert(fresh, in: projectID, type: type, by: userID, at: now, on: tx)
        return (fresh.count, already.count)
    }

    func unenrol(projectID text: String, beneficiaryID beneficiaryText: String, by caller: Principal) async throws {
        let projectID = try parseID(text, field: "projectId")
        let beneficiaryID = try parseID(beneficiaryText, field: "beneficiaryId")
        try caller.require(Permission(.project, .update, projectID: projectID.lowercasedString))
        guard let row = try await EnrolmentStore.find(beneficiaryID, in: projectID, on: db) else {
            throw CoreError.enrolmentNotFound
        }
        try await EnrolmentStore.delete(row, on: db)
    }

    /// A project's beneficiaries; needs `beneficiary:read` for that project.
    func listEnrolments(
        projectID text: String, limit: Int, cursor: String?, by caller: Principal
    ) async throws
        -> ([EnrolmentInfo], String?)
    {
        let projectID = try parseID(text, field: "projectId")
        try caller.require(Permission(.beneficiary, .read, projectID: projectID.lowercasedString))
        let page = try PageRequest<UUID>.validate(limit: limit, cursor: cursor).get()
        let after = page.after
        let enrolments = try await database.replicaRead { db in
            guard try await ProjectStore.find(projectID, on: db) != nil else { throw CoreError.projectNotFound }
            return try await EnrolmentStore.page(of: projectID, after: after, limit: limit + 1, on: db)
        }
        let (rows, next) = page.page(of: enrolments) { $0.beneficiaryID }
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
        let projects = try await EnrolmentStore.projects(of: id, on: db)
        return projects.contains {
            caller.permissions.allows(Permission(subject, action, projectID: $0.lowercasedString))
        }
    }
}
