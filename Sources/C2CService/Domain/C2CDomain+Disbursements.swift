import Crypto
import FluentKit
import Foundation
import Logging
import Messaging
import Persistence
import SQLKit
import ServerKit
import SharedModels

/// Where a disbursement is in its life (docs/domain.md).
enum DisbursementStatus: String, Sendable, CaseIterable {
    case draft
    case pendingApproval = "pending_approval"
    case approved, processing, completed
    case partiallyFailed = "partially_failed"
    case rejected, cancelled

    /// As the status reads in messages: `pending approval`.
    var phrase: String { rawValue.replacingOccurrences(of: "_", with: " ") }
}

/// Where one line is.
enum LineStatus: String, Sendable, CaseIterable {
    case pending, completed, failed
}

/// Why a beneficiary the request names is not paid.
enum ExclusionReason: String, Sendable, CaseIterable {
    case unverified, archived
    case notEnrolled = "not_enrolled"
}

/// A person core lists for a disbursement (its roster), with what decides whether they are paid.
struct RosterEntry: Sendable, Equatable {
    var beneficiaryID: UUID
    var enrolled: Bool
    /// Core's verification status, shown to those who read why a person was left out.
    var verificationStatus: String
    /// Whether that status is the verified one, which alone is paid.
    var verified: Bool
    var archived: Bool

    /// Why this person is not paid, or `nil` when they are.
    var exclusion: ExclusionReason? {
        if !enrolled { return .notEnrolled }
        if archived { return .archived }
        return verified ? nil : .unverified
    }

    /// This person as a plan lists them among those left out, or `nil` when they are paid.
    var exclusionRecord: Exclusion? {
        exclusion.map { reason in
            Exclusion(
                beneficiaryID: beneficiaryID, reason: reason,
                verificationStatus: reason == .unverified ? verificationStatus : nil)
        }
    }
}

/// What a plan gathers from a roster as it streams, so that it holds only what it keeps.
protocol RosterTally: Sendable {
    /// Takes in the next entry; an error ends the roster.
    mutating func add(_ entry: RosterEntry) throws
}

/// Who an amount per beneficiary pays and who it leaves out: at most as many payees as a
/// disbursement may have (one more refuses the plan before the rest is read), and the
/// first ``C2CDomain/shownExclusions`` of those left out by name, the others only counted.
struct PayeeTally: RosterTally {
    let amount: Int64
    /// Whether people outside the project (a group's members not enrolled) are named.
    let namesOutsiders: Bool
    var lines: [(beneficiaryID: UUID, amount: Int64)] = []
    var excluded: [Exclusion] = []
    var counts = Dictionary(uniqueKeysWithValues: ExclusionReason.allCases.map { ($0, Int64(0)) })

    mutating func add(_ entry: RosterEntry) throws {
        guard let reason = entry.exclusion else {
            guard lines.count < C2CDomain.maxLines else {
                throw C2CError.invalidInput([
                    FieldViolation(
                        field: "amountPerBeneficiary",
                        reason:
                            "would pay more than \(C2CDomain.maxLines) people, the most a disbursement pays (split it by group)"
                    )
                ])
            }
            lines.append((entry.beneficiaryID, amount))
            return
        }
        counts[reason, default: 0] += 1
        if excluded.count < C2CDomain.shownExclusions, reason != .notEnrolled || namesOutsiders,
            let record = entry.exclusionRecord
        {
            excluded.append(record)
        }
    }
}

/// The roster entries of named beneficiaries, by id.
struct NamedRoster: RosterTally {
    var entries: [UUID: RosterEntry] = [:]

    mutating func add(_ entry: RosterEntry) throws { entries[entry.beneficiaryID] = entry }
}

/// Criteria among a project's enrolled beneficiaries, as in core's beneficiary filter.
struct RecipientFilter: Sendable, Equatable {
    var gender: String?
    var bankedStatus: String?
    var internetStatus: String?
    var phoneStatus: String?
    var createdFrom: Date?
    var createdTo: Date?
}

/// What a caller asks to disburse.
struct DisbursementInput: Sendable {
    var projectID: String
    var name: String
    var amountPerBeneficiary: Int64?
    var lines: [(beneficiaryID: String, amount: Int64)]
    var groupID: String?
    var filter: RecipientFilter?
    /// The client's name for the request: sent again, it answers the draft it made.
    var reference: String?

    /// A digest of what the request asks, to tell a repeat from another request under the same
    /// reference.
    var digest: String {
        var parts = [projectID.lowercased(), name.trimmingCharacters(in: .whitespacesAndNewlines)]
        parts.append(amountPerBeneficiary.map(String.init) ?? "-")
        parts.append(groupID?.lowercased() ?? "-")
        if let filter {
            parts += [
                filter.gender ?? "-", filter.bankedStatus ?? "-", filter.internetStatus ?? "-",
                filter.phoneStatus ?? "-", filter.createdFrom.map { "\($0.timeIntervalSince1970)" } ?? "-",
                filter.createdTo.map { "\($0.timeIntervalSince1970)" } ?? "-",
            ]
        }
        for line in lines { parts.append("\(line.beneficiaryID.lowercased())=\(line.amount)") }
        return SHA256.hash(data: Data(parts.joined(separator: "\n").utf8)).hexString
    }
}

/// A beneficiary left out of a disbursement, and why.
struct Exclusion: Sendable, Equatable {
    var beneficiaryID: UUID
    var reason: ExclusionReason
    var verificationStatus: String?
}

/// What a disbursement would pay: computed for a dry run and for a draft alike.
struct DisbursementPlan: Sendable {
    var projectID: UUID
    var asset: String
    var vouchers: Bool
    var name: String
    var amountPerBeneficiary: Int64?
    var groupID: UUID?
    var lines: [(beneficiaryID: UUID, amount: Int64)]
    var total: Int64
    var excludedCounts: [ExclusionReason: Int64]
    /// The first ``C2CDomain/shownExclusions`` left out, by beneficiary id.
    var excluded: [Exclusion]
    var fundBalance: Int64

    var fundSufficient: Bool { fundBalance >= total }
}

/// One approver's decision.
struct ApprovalRecord: Sendable, Equatable {
    var userID: UUID
    var approved: Bool
    var note: String?
    var decidedAt: Date
}

/// A disbursement as stored.
struct DisbursementRecord: Sendable, Equatable {
    var id: UUID
    var projectID: UUID
    var name: String
    var status: DisbursementStatus
    var asset: String
    var vouchers: Bool
    var total: Int64
    var lineCount: Int64
    var amountPerBeneficiary: Int64?
    var groupID: UUID?
    var requiredApprovals: Int
    var approverIDs: [UUID]
    var approvals: [ApprovalRecord] = []
    var linesCompleted: Int64
    var linesFailed: Int64
    var amountCompleted: Int64
    var round: Int
    var jobIDs: [String]
    var createdBy: UUID
    var createdAt: Date
    var updatedAt: Date
    var submittedAt: Date?
    var approvedAt: Date?
    var completedAt: Date?
    var reference: String? = nil
    /// This request's reference was drafted before, by the same request: nothing new was made.
    var replayed = false
}

/// One line of a disbursement.
struct DisbursementLineRecord: Sendable, Equatable {
    var lineNumber: Int64
    var beneficiaryID: UUID
    var amount: Int64
    var status: LineStatus
    var transferID: UUID?
    var attempts: Int
    var lastError: String?
}

extension C2CDomain {
    /// The most lines a disbursement has: what one ledger-backed run is sized and measured for
    /// (`scripts/bench-disburse 1000000`).
    static let maxLines = 1_000_000
    /// The most failed lines one retry may name (all of them when it names none).
    static let maxRetryLines = 100_000
    /// The most lines one request may name (about 700 KB of JSON, under the gateway's body
    /// limit); a longer list is several disbursements, or an amount per beneficiary.
    static let maxRequestLines = 10_000
    /// How many exclusions a plan lists by name; the counts cover all of them.
    static let shownExclusions = 1_000

    // MARK: Planning

    /// What `input` would pay, after checking it and the caller's right to disburse.
    func plan(_ input: DisbursementInput, by caller: Principal) async throws -> DisbursementPlan {
        var violations: [FieldViolation] = []
        let projectID = UUID(input.projectID, field: "projectId", into: &violations)
        let name = input.name.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty || name.count > 200 {
            violations.append(FieldViolation(field: "name", reason: "must be 1 to 200 characters"))
        }
        if let reference = input.reference {
            if reference.isEmpty || reference.count > 100 {
                violations.append(FieldViolation(field: "reference", reason: "must be 1 to 100 characters"))
            } else if reference.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                violations.append(FieldViolation(field: "reference", reason: "must not contain control characters"))
            }
        }
        var groupID: UUID?
        if let text = input.groupID {
            groupID = UUID(text, field: "groupId", into: &violations)
        }
        var requested: [(beneficiaryID: UUID, amount: Int64)] = []
        switch (input.amountPerBeneficiary, input.lines.isEmpty) {
        case (nil, true):
            violations.append(
                FieldViolation(field: "amountPerBeneficiary", reason: "name an amount per beneficiary, or lines"))
        case (.some, false):
            violations.append(
                FieldViolation(field: "lines", reason: "name lines or an amount per beneficiary, not both"))
        case (.some(let amount), true):
            if amount <= 0 {
                violations.append(FieldViolation(field: "amountPerBeneficiary", reason: "must be more than zero"))
            }
            if groupID != nil, input.filter != nil {
                violations.append(FieldViolation(field: "filter", reason: "name a group or a filter, not both"))
            }
        case (nil, false):
            if input.groupID != nil {
                violations.append(FieldViolation(field: "groupId", reason: "applies to an amount per beneficiary only"))
            }
            if input.filter != nil {
                violations.append(FieldViolation(field: "filter", reason: "applies to an amount per beneficiary only"))
            }
            if input.lines.count > Self.maxRequestLines {
                violations.append(
                    FieldViolation(field: "lines", reason: "must hold at most \(Self.maxRequestLines) lines"))
            } else {
                requested = Self.parseLines(input.lines, into: &violations)
            }
        }
        guard violations.isEmpty, let projectID else { throw C2CError.invalidInput(violations) }
        try caller.require(Permission(.disbursement, .create, projectID: projectID.lowercasedString))
        let project = try await clients.project(projectID)
        guard !project.closed else { throw C2CError.projectClosed }
        guard project.active else { throw C2CError.projectNotActive }

        var lines: [(beneficiaryID: UUID, amount: Int64)] = []
        var excluded: [Exclusion] = []
        var counts = Dictionary(uniqueKeysWithValues: ExclusionReason.allCases.map { ($0, Int64(0)) })
        if let amount = input.amountPerBeneficiary {
            // The roster is read with c2c's own credentials: a group's members outside this
            // project are counted, and named only to callers who may read the whole registry.
            let tally = try await clients.roster(
                projectID: projectID, groupID: groupID, filter: input.filter,
                into: PayeeTally(
                    amount: amount, namesOutsiders: caller.permissions.allows(Permission(.beneficiary, .read))))
            (lines, excluded, counts) = (tally.lines, tally.excluded, tally.counts)
        } else {
            // Without names core would stream the whole roster.
            let roster =
                requested.isEmpty
                ? [:]
                : try await clients.roster(
                    projectID: projectID, groupID: nil, filter: nil, beneficiaryIDs: requested.map(\.beneficiaryID),
                    into: NamedRoster()
                ).entries
            for line in requested {
                let entry =
                    roster[line.beneficiaryID]
                    ?? RosterEntry(
                        beneficiaryID: line.beneficiaryID, enrolled: false, verificationStatus: "", verified: false,
                        archived: false)
                if let record = entry.exclusionRecord {
                    counts[record.reason, default: 0] += 1
                    excluded.append(record)
                } else {
                    lines.append(line)
                }
            }
            excluded.sort { $0.beneficiaryID.uuidString < $1.beneficiaryID.uuidString }
        }
        var total: Int64 = 0
        for line in lines {
            let (sum, overflow) = total.addingReportingOverflow(line.amount)
            guard !overflow else {
                throw C2CError.invalidInput([
                    FieldViolation(
                        field: input.lines.isEmpty ? "amountPerBeneficiary" : "lines",
                        reason: "the total does not fit in 64-bit minor units")
                ])
            }
            total = sum
        }
        // Who was left out, by id, is beneficiary data: counts only for callers who may not read it.
        let mayReadBeneficiaries = caller.permissions.allows(
            Permission(.beneficiary, .read, projectID: projectID.lowercasedString))
        return DisbursementPlan(
            projectID: projectID, asset: project.asset, vouchers: project.vouchers, name: name,
            amountPerBeneficiary: input.amountPerBeneficiary, groupID: groupID, lines: lines, total: total,
            excludedCounts: counts, excluded: mayReadBeneficiaries ? Array(excluded.prefix(Self.shownExclusions)) : [],
            fundBalance: try await clients.fundBalance(projectID: projectID))
    }

    private static func parseLines(
        _ lines: [(beneficiaryID: String, amount: Int64)], into violations: inout [FieldViolation]
    ) -> [(beneficiaryID: UUID, amount: Int64)] {
        var parsed: [(beneficiaryID: UUID, amount: Int64)] = []
        var seen = Set<UUID>()
        // A CSV of 100,000 rows with a systematic mistake would name every row: the first 100 say enough.
        for (index, line) in lines.enumerated() where violations.count < 100 {
            guard let id = UUID(line.beneficiaryID, field: "lines[\(index)].beneficiaryId", into: &violations) else {
                continue
            }
            if !seen.insert(id).inserted {
                violations.append(FieldViolation(field: "lines[\(index)].beneficiaryId", reason: "is named twice"))
            }
            if line.amount <= 0 {
                violations.append(FieldViolation(field: "lines[\(index)].amount", reason: "must be more than zero"))
            }
            parsed.append((id, line.amount))
        }
        return parsed
    }

    // MARK: Drafting

    /// Creates a draft from a plan: the disbursement and every line, in one transaction. A
    /// request under a reference drafted before answers that draft, if it asks the same.
    func createDisbursement(_ input: DisbursementInput, by caller: Principal) async throws -> DisbursementRecord {
        let plan = try await plan(input, by: caller)
        let digest = input.digest
        if let reference = input.reference,
            let earlier = try await referenced(plan.projectID, reference, digest: digest)
        {
            return earlier
        }
        guard !plan.lines.isEmpty else {
            throw C2CError.invalidInput([
                FieldViolation(
                    field: input.lines.isEmpty ? "amountPerBeneficiary" : "lines",
                    reason: "pays no one: every beneficiary it names is excluded (see the dry run)")
            ])
        }
        let now = self.now()
        let record = DisbursementRecord(
            id: UUID.v7(at: now), projectID: plan.projectID, name: plan.name, status: .draft, asset: plan.asset,
            vouchers: plan.vouchers, total: plan.total, lineCount: Int64(plan.lines.count),
            amountPerBeneficiary: plan.amountPerBeneficiary, groupID: plan.groupID, requiredApprovals: 0,
            approverIDs: [], linesCompleted: 0, linesFailed: 0, amountCompleted: 0, round: 0, jobIDs: [],
            createdBy: caller.userID, createdAt: now, updatedAt: now)
        let lines = plan.lines.map { (beneficiaryID: $0.beneficiaryID, amount: $0.amount) }
        do {
            try await database.sqlTransaction { tx in
                // The same reference drafted at this moment by another request: that one stands.
                guard
                    try await DisbursementStore.insertDraft(
                        record, reference: input.reference, requestHash: digest, lines: lines, on: tx)
                else { throw ReferenceTaken() }
            }
        } catch is ReferenceTaken {
            guard let reference = input.reference,
                let earlier = try await referenced(plan.projectID, reference, digest: digest)
            else { throw C2CStorageError(description: "a disbursement reference was taken and is not there") }
            return earlier
        }
        logger.info(
            "disbursement drafted",
            metadata: [
                "disbursement_id": "\(record.id.lowercasedString)", "project_id": "\(plan.projectID.lowercasedString)",
                "lines": "\(record.lineCount)", "total": "\(record.total)",
            ])
        var created = record
        created.reference = input.reference
        return created
    }

    /// The draft made under `reference`, marked replayed, if its request asked the same; a
    /// different request under it is refused.
    private func referenced(
        _ projectID: UUID, _ reference: String, digest: String
    ) async throws
        -> DisbursementRecord?
    {
        guard
            let (id, requestHash) = try await DisbursementStore.referenced(
                projectID: projectID, reference: reference, on: sql)
        else { return nil }
        guard requestHash == digest else {
            throw C2CError.disbursementReferenceConflict(reference: reference)
        }
        var earlier = try await reread(id)
        earlier.replayed = true
        return earlier
    }

    // MARK: Reading

    func disbursement(_ text: String, by caller: Principal) async throws -> DisbursementRecord {
        let id = try parseID(text, field: "id")
        try Self.requireReadAnywhere(.disbursement, by: caller)
        guard let record = try await DisbursementStore.disbursement(id, on: sql) else {
            throw C2CError.disbursementNotFound
        }
        try Self.requireReach(
            caller.permissions.allows(Permission(.disbursement, .read, projectID: record.projectID.lowercasedString)),
            otherwise: .disbursementNotFound)
        return record
    }

    func disbursements(
        projectID text: String?, status: DisbursementStatus?, limit: Int, cursor: String?, by caller: Principal
    ) async throws -> ([DisbursementRecord], String?) {
        var violations: [FieldViolation] = []
        var projectID: UUID?
        if let text {
            projectID = UUID(text, field: "projectId", into: &violations)
        }
        let page: ServerKit.PageRequest<UUID>
        switch ServerKit.PageRequest<UUID>.validate(limit: limit, cursor: cursor) {
        case .success(let valid): page = valid
        case .failure(let error): throw C2CError.invalidInput(violations + error.violations)
        }
        guard violations.isEmpty else { throw C2CError.invalidInput(violations) }
        // Without a project, the list is of every project: only for callers who read them all.
        try caller.require(Permission(.disbursement, .read, projectID: projectID?.lowercasedString))
        let project = projectID
        return try await database.replicaRead { sql in
            let rows = try await DisbursementStore.disbursements(
                projectID: project, status: status, after: page.after, limit: page.limit + 1, on: sql)
            let (shown, next) = page.page(of: rows) { $0.id }
            var withApprovals: [DisbursementRecord] = []
            for var record in shown {
                record.approvals = try await DisbursementStore.approvals(of: record.id, on: sql)
                withApprovals.append(record)
            }
            return (withApprovals, next)
        }
    }

    func lines(
        of text: String, status: LineStatus?, limit: Int, cursor: String?, by caller: Principal
    ) async throws -> ([DisbursementLineRecord], String?) {
        let id = try parseID(text, field: "disbursementId")
        let page = try PageRequest<Int64>.validate(limit: limit, cursor: cursor).get()
        _ = try await disbursement(id.lowercasedString, by: caller)
        let rows = try await database.replicaRead { sql in
            try await DisbursementStore.lines(
                of: id, status: status, after: page.afterSequence, limit: page.limit + 1, on: sql)
        }
        let (shown, next) = page.page(of: rows) { $0.lineNumber }
        return (shown, next)
    }

}

/// Another request took the reference while this one drafted.
private struct ReferenceTaken: Error {}
