import FluentKit
import Foundation
import Persistence
import ServerKit
import SharedModels

/// One person a disbursement may pay, with what decides whether it does.
struct RosterEntry: Sendable, Equatable {
    var beneficiaryID: UUID
    var enrolled: Bool
    var verificationStatus: String
    var archived: Bool
}

/// A checked roster request: what to walk, resolved before the stream opens so that a bad
/// request is an error, not an empty stream.
struct RosterPlan: Sendable {
    enum Source: Sendable {
        case enrolled
        case group(UUID)
        case filter(ResolvedBeneficiaryFilter)
        /// These of the enrolled, in id order.
        case beneficiaries([UUID])
    }
    var projectID: UUID
    var source: Source
}

extension CoreDomain {
    /// Entries per streamed chunk: large enough that 100,000 people are 20 messages, small
    /// enough that a chunk is well under gRPC's message limit.
    static let rosterChunk = 5_000
    /// Beneficiaries a roster may be asked about by id: a disbursement's named lines.
    static let maxRosterIDs = 10_000
    /// Named beneficiaries looked up per query, well under either database's bind limit.
    static let rosterIDsPerQuery = 1_000

    /// Checks a roster request: the caller reads the project's beneficiaries; the project and
    /// the group exist. A filter selects among the project's enrolled, live beneficiaries, and
    /// named ids among its enrolled ones.
    func planRoster(
        projectID text: String, groupID groupText: String?, filter: BeneficiaryFilter?,
        beneficiaryIDs idTexts: [String] = [], by caller: Principal
    ) async throws -> RosterPlan {
        var violations: [FieldViolation] = []
        let projectID = parseID(text, field: "projectId", into: &violations)
        let groupID = parseID(groupText, field: "groupId", into: &violations)
        var resolved = filter.map { resolve($0, field: { "filter.\($0)" }, into: &violations) }
        if groupID != nil, filter != nil {
            violations.append(FieldViolation(field: "filter", reason: "name a group or a filter, not both"))
        }
        var named: [UUID] = []
        if !idTexts.isEmpty {
            if groupID != nil || filter != nil {
                violations.append(
                    FieldViolation(field: "beneficiaryIds", reason: "name beneficiaries, a group or a filter, not two"))
            }
            if idTexts.count > Self.maxRosterIDs {
                violations.append(
                    FieldViolation(field: "beneficiaryIds", reason: "must name at most \(Self.maxRosterIDs)"))
            } else {
                for (index, idText) in idTexts.enumerated() where violations.count < 100 {
                    if let id = parseID(idText, field: "beneficiaryIds[\(index)]", into: &violations) {
                        named.append(id)
                    }
                }
            }
        }
        if let projectID, let filterProject = resolved?.projectID, filterProject != projectID {
            violations.append(FieldViolation(field: "filter.projectId", reason: "must be the roster's project"))
        }
        guard violations.isEmpty, let projectID else { throw CoreError.invalidInput(violations) }
        try caller.require(Permission(.beneficiary, .read, projectID: projectID.lowercasedString))
        guard try await ProjectStore.find(projectID, on: db) != nil else { throw CoreError.projectNotFound }
        if let groupID { _ = try await findGroup(groupID, on: db) }
        if let filterGroup = resolved?.groupID { _ = try await findGroup(filterGroup, on: db) }
        resolved?.projectID = projectID
        let source: RosterPlan.Source =
            if let groupID {
                .group(groupID)
            } else if let resolved {
                .filter(resolved)
            } else if !named.isEmpty {
                .beneficiaries(Array(Set(named)).sorted { $0.uuidString < $1.uuidString })
            } else {
                .enrolled
            }
        return RosterPlan(projectID: projectID, source: source)
    }

    /// Walks the roster by beneficiary id, a chunk at a time, handing each to `write`.
    func streamRoster(_ plan: RosterPlan, write: ([RosterEntry]) async throws -> Void) async throws {
        if case .beneficiaries(let ids) = plan.source {
            for slice in ids.chunks(of: Self.rosterIDsPerQuery) {
                let chunk = try await enrolled(only: Array(slice), in: plan.projectID)
                if !chunk.isEmpty { try await write(chunk) }
            }
            return
        }
        var after: UUID?
        while true {
            let chunk = try await rosterChunk(plan, after: after)
            guard let last = chunk.last else { return }
            try await write(chunk)
            guard chunk.count == Self.rosterChunk else { return }
            after = last.beneficiaryID
        }
    }

    private func rosterChunk(_ plan: RosterPlan, after: UUID?) async throws -> [RosterEntry] {
        switch plan.source {
        case .enrolled:
            return try await enrolled(after: after, in: plan.projectID)
        case .beneficiaries(let ids):
            return try await enrolled(after: after, only: ids, in: plan.projectID)
        case .group(let groupID):
            return try await RosterStore.groupMembers(
                of: groupID, in: plan.projectID, after: after, limit: Self.rosterChunk, on: database.sql)
        case .filter(let resolved):
            // The filter joins the project's enrolments (its project is the roster's) and
            // matches live beneficiaries only.
            let matched = try await BeneficiaryStore.matchingStatuses(
                resolved, after: after, limit: Self.rosterChunk, on: db)
            return try matched.map { row in
                RosterEntry(
                    beneficiaryID: try row.requireID(), enrolled: true, verificationStatus: row.verificationStatus,
                    archived: false)
            }
        }
    }

    /// The project's enrolled beneficiaries: the next chunk after `after` in id order, or
    /// those of `ids` that are enrolled.
    private func enrolled(
        after: UUID? = nil, only ids: [UUID]? = nil, in projectID: UUID
    ) async throws
        -> [RosterEntry]
    {
        try await RosterStore.enrolled(
            in: projectID, after: after, only: ids, limit: Self.rosterChunk, on: database.sql)
    }
}
