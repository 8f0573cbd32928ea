import Crypto
import Foundation
import Logging
import MetricCatalog
import Metrics
import Persistence
import SQLKit
import ServerKit
import SharedModels

/// A project's disbursement approvers: `required` of `userIDs` (M of N).
struct ApproverSet: Sendable, Equatable {
    var projectID: UUID
    var userIDs: [UUID]
    var required: Int
    var updatedAt: Date?
    var updatedBy: UUID?
}

/// Donor funding recorded into a project's fund.
struct FundingRecord: Sendable, Equatable {
    var id: UUID
    var projectID: UUID
    var amount: Int64
    var asset: String
    var reference: String
    var note: String?
    var transferID: UUID
    var createdBy: UUID
    var createdAt: Date
    /// The reference was recorded before with this amount: nothing moved now.
    var replayed = false
}

extension C2CDomain {
    /// The most approvers a project names: enough for any board, few enough to list.
    static let maxApprovers = 25

    // MARK: Approvers

    func setApprovers(
        projectID text: String, userIDs: [String], required: Int, by caller: Principal
    ) async throws
        -> ApproverSet
    {
        let projectID = try UUID(text, field: "projectId")
        // The size first: nothing below may cost a caller's list more than 25 entries' work.
        if userIDs.isEmpty || userIDs.count > Self.maxApprovers {
            throw C2CError.invalidInput([
                FieldViolation(field: "userIds", reason: "must name 1 to \(Self.maxApprovers) users")
            ])
        }
        // Who approves decides where money goes: the project's governors set it, not its managers.
        try caller.require(Permission(.project, .manage, projectID: projectID.lowercasedString))
        var violations: [FieldViolation] = []
        var users: [UUID] = []
        var named = Set<UUID>()
        for (index, text) in userIDs.enumerated() {
            guard let id = UUID(text, field: "userIds[\(index)]", into: &violations) else { continue }
            if !named.insert(id).inserted {
                violations.append(FieldViolation(field: "userIds[\(index)]", reason: "is named twice"))
            }
            users.append(id)
        }
        if !(1...userIDs.count).contains(required) {
            violations.append(
                FieldViolation(
                    field: "required", reason: "must be between 1 and the number of users (\(userIDs.count))"))
        }
        guard violations.isEmpty else { throw C2CError.invalidInput(violations) }
        _ = try await clients.project(projectID)
        for (index, id) in users.enumerated() where try await !clients.isActiveUser(id) {
            violations.append(FieldViolation(field: "userIds[\(index)]", reason: "is not an active user"))
        }
        guard violations.isEmpty else { throw C2CError.invalidInput(violations) }

        let set = ApproverSet(
            projectID: projectID, userIDs: users, required: required, updatedAt: now(), updatedBy: caller.userID)
        try await FundStore.setApprovers(set, on: sql)
        logger.info(
            "approvers set",
            metadata: [
                "project_id": "\(projectID.lowercasedString)", "approvers": "\(users.count)",
                "required": "\(required)",
            ])
        return set
    }

    func approvers(projectID text: String, by caller: Principal) async throws -> ApproverSet {
        let projectID = try parseID(text, field: "projectId")
        try Self.requireAny(
            [Permission(.project, .read), Permission(.disbursement, .read)], in: projectID, of: caller)
        return try await FundStore.approvers(of: projectID, on: sql)
            ?? ApproverSet(projectID: projectID, userIDs: [], required: 0)
    }

    // MARK: Funding

    func recordFunding(
        projectID text: String, amount: Int64, reference rawReference: String, note: String?, by caller: Principal
    ) async throws -> FundingRecord {
        var violations: [FieldViolation] = []
        let projectID = UUID(text, field: "projectId", into: &violations)
        if amount <= 0 { violations.append(FieldViolation(field: "amount", reason: "must be more than zero")) }
        let reference = rawReference.trimmingCharacters(in: .whitespacesAndNewlines)
        if reference.isEmpty || reference.count > 100 {
            violations.append(FieldViolation(field: "reference", reason: "must be 1 to 100 characters"))
        } else if reference.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            violations.append(FieldViolation(field: "reference", reason: "must not contain control characters"))
        }
        if let note, note.count > 1_000 {
            violations.append(FieldViolation(field: "note", reason: "must be at most 1000 characters"))
        }
        guard violations.isEmpty, let projectID else { throw C2CError.invalidInput(violations) }
        // Funding credits the project from outside the books: a governor's act, not a manager's.
        try caller.require(Permission(.project, .manage, projectID: projectID.lowercasedString))

        if let recorded = try await funding(projectID: projectID, reference: reference) {
            guard recorded.amount == amount else { throw C2CError.fundingReferenceConflict(reference: reference) }
            var replay = recorded
            replay.replayed = true
            return replay
        }
        let project = try await clients.project(projectID)
        guard !project.closed else { throw C2CError.projectClosed }
        // The key is derived from the reference: an attempt that moved value and then failed
        // before its row was written is completed by the next, which the ledger answers with the
        // first transfer. A digest, since references (bank ones) may hold spaces and keys may not.
        let result: RecordedTransfer
        do {
            result = try await clients.transfer(
                LedgerTransfer(
                    idempotencyKey: Self.fundingKey(reference), debit: .externalFunding(project: projectID),
                    credit: .projectFund(project: projectID), amount: amount, asset: project.asset, kind: .fund,
                    reference: "funding:\(reference)"))
        } catch let refusal as LedgerRefusal where refusal.kind == .conflict {
            throw C2CError.fundingReferenceConflict(reference: reference)
        }
        let transferID = result.id
        let record = FundingRecord(
            id: UUID.v7(), projectID: projectID, amount: amount, asset: project.asset, reference: reference,
            note: note, transferID: transferID, createdBy: caller.userID, createdAt: now())
        // Two requests with one reference at once: one row is written, both answer it.
        try await FundStore.insertFunding(record, on: sql)
        guard var stored = try await funding(projectID: projectID, reference: reference) else {
            throw C2CStorageError(description: "the funding '\(reference)' was not stored")
        }
        stored.replayed = stored.id != record.id || result.replayed
        if !stored.replayed {
            C2CServiceMetrics.fundingValue.counter(project.asset).increment(by: amount)
            logger.info(
                "project funded",
                metadata: [
                    "project_id": "\(projectID.lowercasedString)", "funding_id": "\(record.id.lowercasedString)",
                    "amount": "\(amount)", "asset": "\(project.asset)",
                ])
        }
        return stored
    }

    func fundings(
        projectID text: String, limit: Int, cursor: String?, by caller: Principal
    ) async throws -> (
        [FundingRecord], String?
    ) {
        let projectID = try parseID(text, field: "projectId")
        let page = try PageRequest<UUID>.validate(limit: limit, cursor: cursor).get()
        try Self.requireAny([Permission(.project, .read), Permission(.ledger, .read)], in: projectID, of: caller)
        let rows = try await database.replicaRead { sql in
            try await FundStore.fundings(projectID: projectID, after: page.after, limit: page.limit + 1, on: sql)
        }
        let (shown, next) = page.page(of: rows) { $0.id }
        return (shown, next)
    }

    private func funding(projectID: UUID, reference: String) async throws -> FundingRecord? {
        try await FundStore.funding(projectID: projectID, reference: reference, on: sql)
    }

    /// The ledger idempotency key of a funding reference.
    static func fundingKey(_ reference: String) -> String {
        "funding:" + SHA256.hash(data: Data(reference.utf8)).hexString
    }

    // MARK: Permissions

    /// Passes when the caller holds any of `permissions` for the project.
    static func requireAny(_ permissions: [Permission], in projectID: UUID, of caller: Principal) throws {
        let scoped = permissions.map { Permission($0.subject, $0.action, projectID: projectID.lowercasedString) }
        if !scoped.contains(where: caller.permissions.allows) { try caller.require(scoped[0]) }
    }
}
