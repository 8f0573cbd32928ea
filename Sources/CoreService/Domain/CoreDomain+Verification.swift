import CoreAPI
import FluentKit
import Foundation
import JobQueue
import Messaging
import MetricCatalog
import Metrics
import Persistence
import ServerKit
import SharedModels
import SwiftProtobuf

/// A check run as callers see it.
struct VerificationInfo: Sendable, Equatable {
    var id: UUID
    var beneficiaryID: UUID
    var status: String
    var checks: [VerificationCheck]
    var reasons: [String]
    var requestedAt: Date
    var checkedAt: Date?
    /// The job that runs the check (one job checks a whole batch).
    var jobID: String
    var reviewerID: UUID?
    var decision: String?
    var note: String?
    var decidedAt: Date?
}

/// One rule's finding.
struct VerificationCheck: Codable, Sendable, Equatable {
    enum Result: String, Codable, Sendable {
        /// The rule holds.
        case passed
        /// The rule is broken: the beneficiary is rejected.
        case failed
        /// A person should look: the beneficiary needs review.
        case review
        /// Nothing to check (no value, or no rule configured for the country).
        case skipped
    }

    var rule: String
    var result: Result
    var detail: String?
}

/// The watch list in force, and for an upload the rows it did not take.
struct WatchListInfo: Sendable, Equatable {
    var id: UUID?
    var entries: Int
    var fileName: String?
    var uploadedBy: UUID?
    var uploadedAt: Date?
    var rejected: [(line: Int, reason: String)] = []

    static func == (lhs: WatchListInfo, rhs: WatchListInfo) -> Bool {
        lhs.id == rhs.id && lhs.entries == rhs.entries && lhs.rejected.map(\.line) == rhs.rejected.map(\.line)
    }
}

/// The statuses of a check run.
enum VerificationStatus: String, Sendable, CaseIterable {
    case pending, verified, rejected
    case needsReview = "needs_review"
    /// A later change queued a newer run before this one finished; it decides nothing.
    case superseded
}

extension BeneficiaryVerification {
    /// What a beneficiary's status becomes when its run decides `outcome`: the two vocabularies
    /// share their stored words, but only a decided run may write one. `nil` for a run that
    /// decided nothing (still pending, or superseded by a newer run).
    init?(outcome: VerificationStatus) {
        switch outcome {
        case .verified: self = .verified
        case .rejected: self = .rejected
        case .needsReview: self = .needsReview
        case .pending, .superseded: return nil
        }
    }
}

extension CoreDomain {
    /// The queue KYC checks run on.
    static let verificationQueue = "verification"
    /// The job that runs one check.
    static let verificationJobName = "core.beneficiary.verify"
    /// Check runs per job.
    static let verificationJobSize = 500
    /// Runs a job checks and records per transaction: a few set queries each, and progress
    /// reported after each.
    static let verificationCheckBatch = 250
    /// The largest watch list accepted in one upload (a gRPC message's limit, with room).
    static let watchListMaxBytes = 4_000_000

    static func verificationJobID(_ id: UUID) -> String { "verify-\(id.lowercasedString)" }

    /// What the checks read of an existing beneficiary: a change to any of it needs a new check,
    /// a change to anything else (or a write of the same values) does not.
    func verificationSnapshot(_ row: BeneficiaryRow) throws -> [String?] {
        let id = row.id?.lowercasedString ?? ""
        var snapshot: [String?] = [
            try vault.open(row.nameSealed, context: "beneficiary:\(id):name"), row.phoneIndex, row.nationalIDIndex,
            row.birthDate,
        ]
        for field in kyc.requiredFields {
            switch field {
            case "email": snapshot.append(row.emailSealed == nil ? nil : "present")
            case "gender": snapshot.append(row.gender)
            case "location": snapshot.append(row.location)
            default: break
            }
        }
        return snapshot
    }

    // MARK: Queueing

    /// Queues a check run for each row, inside the transaction that writes the rows and before
    /// it writes them: the rows become `pending` under their new run, whose job exists if and
    /// only if the write commits. One job checks up to ``verificationJobSize`` runs, so a batch
    /// or an import is not thousands of jobs. Returns the job requests for the outbox.
    func queueVerifications(
        of rows: [BeneficiaryRow], by requester: UUID, at now: Date, on db: any Database
    ) async throws -> [OutboxEvent] {
        guard !rows.isEmpty else { return [] }
        let ids = rows.map { _ in UUID.v7(at: now) }
        // Each chunk's job is named after its first run, so a request relayed twice is one job.
        var jobIDs: [UUID: String] = [:]
        for chunk in ids.chunks(of: Self.verificationJobSize) {
            guard let first = chunk.first else { continue }
            for id in chunk { jobIDs[id] = Self.verificationJobID(first) }
        }
        var runs: [(id: UUID, beneficiary: UUID, jobID: String)] = []
        for (row, id) in zip(rows, ids) {
            row.verificationID = id
            row.verificationStatus = BeneficiaryVerification.pending.rawValue
            row.verificationReason = nil
            runs.append((id, try row.requireID(), jobIDs[id] ?? Self.verificationJobID(id)))
        }
        try await VerificationStore.insertPending(runs, requestedBy: requester, at: now, on: db)
        return ids.chunks(of: Self.verificationJobSize).compactMap { chunk in
            guard let first = chunk.first else { return nil }
            return .jobRequested(
                JobRequest(
                    id: Self.verificationJobID(first), queue: Self.verificationQueue, name: Self.verificationJobName,
                    payload: OutboxValue.object([
                        "verificationIds": .array(chunk.map { .string($0.lowercasedString) })
                    ]).json,
                    maxAttempts: 5, backoff: .seconds(10), owner: requester.lowercasedString),
                at: now)
        }
    }

    // MARK: Running a check

    /// Checks the runs `ids` (a job's batch) and records their outcomes; returns how many ended
    /// in each status. What the rules compare against (other beneficiaries, projects, the watch
    /// list) is read once for the whole batch, and the outcomes commit in one transaction.
    func runVerifications(_ ids: [UUID]) async throws -> [VerificationStatus: Int] {
        var counts: [VerificationStatus: Int] = [:]
        let runs = try await VerificationStore.runs(ids, on: db)
        for run in runs where run.status != VerificationStatus.pending.rawValue {
            counts[VerificationStatus(rawValue: run.status) ?? .pending, default: 0] += 1
        }
        let pending = runs.filter { $0.status == VerificationStatus.pending.rawValue }
        guard !pending.isEmpty else { return counts }
        let beneficiaries = Dictionary(
            try await BeneficiaryStore.rows(pending.map(\.beneficiaryID), on: db)
                .compactMap { row in row.id.map { ($0, row) } }
        ) { first, _ in first }
        // A run a later change overtook decides nothing; the newer run is queued already.
        var stale: [UUID] = []
        var current: [(run: UUID, beneficiary: BeneficiaryRow)] = []
        for run in pending {
            guard let runID = run.id else { continue }
            if let beneficiary = beneficiaries[run.beneficiaryID], beneficiary.verificationID == runID,
                beneficiary.archivedAt == nil
            {
                current.append((runID, beneficiary))
            } else {
                stale.append(runID)
            }
        }
        let context = try await verificationContext(for: current.map(\.beneficiary))
        let now = self.now()
        var findings: [(run: UUID, beneficiary: UUID, outcome: VerificationStatus, checks: String, reasons: [String])] =
            []
        for (runID, beneficiary) in current {
            let checks = try check(beneficiary, in: context)
            let outcome: VerificationStatus =
                checks.contains { $0.result == .failed }
                ? .rejected : checks.contains { $0.result == .review } ? .needsReview : .verified
            let reasons = checks.filter { $0.result == .failed || $0.result == .review }.compactMap(\.detail)
            findings.append((runID, try beneficiary.requireID(), outcome, try Self.json(checks), reasons))
        }
        let recorded = findings
        let staleRuns = stale
        let statuses = try await changeBeneficiaries(recorded.map(\.beneficiary)) {
            tx -> ([OutboxEvent], [VerificationStatus]) in
            let sql = try tx.sql()
            let settlements = try recorded.map { finding in
                guard let settled = BeneficiaryVerification(outcome: finding.outcome) else {
                    throw UndecidedVerification(status: finding.outcome)
                }
                return (
                    beneficiary: finding.beneficiary, run: finding.run, status: settled,
                    reason: finding.reasons.isEmpty ? nil : finding.reasons.joined(separator: "; ")
                )
            }
            // The beneficiaries first, conditionally: only while each run is its beneficiary's
            // latest and still pending. A change committed since queued a newer run, which
            // decides; another run of this same job may have recorded it already.
            let applied = try await VerificationStore.settleBeneficiaries(settlements, on: sql)
            let decided = recorded.filter { applied.contains($0.run) }
            // Overtaken before the check (stale) or while it ran (not applied): one statement.
            try await VerificationStore.supersede(
                staleRuns + recorded.filter { !applied.contains($0.run) }.map(\.run), at: now, on: sql)
            try await VerificationStore.recordOutcomes(
                try decided.map { ($0.run, $0.outcome, $0.checks, try Self.json($0.reasons)) }, at: now, on: sql)
            let events = try decided.map { finding in
                try CoreEvents.verificationDecided(
                    finding.outcome, beneficiaryID: finding.beneficiary, verificationID: finding.run,
                    reasons: finding.reasons, decidedBy: nil, at: now)
            }
            let statuses = recorded.map { applied.contains($0.run) ? $0.outcome : VerificationStatus.superseded }
            return (events, statuses)
        }
        counts[.superseded, default: 0] += stale.count
        for status in statuses {
            counts[status, default: 0] += 1
            if status != .superseded { CoreServiceMetrics.verifications.counter(status.rawValue).increment() }
        }
        return counts
    }

    // MARK: The rules

    /// What the rules compare a batch of beneficiaries against, read in a few set queries.
    struct VerificationContext {
        /// The default countries of each beneficiary's projects.
        var countries: [UUID: Set<String>] = [:]
        /// Beneficiaries (archived ones included) by blind index.
        var byPhone: [String: [BeneficiaryStore.IndexHolder]] = [:]
        var byNationalID: [String: [BeneficiaryStore.IndexHolder]] = [:]
        var byIdentity: [String: [BeneficiaryStore.IndexHolder]] = [:]
        /// Whether a watch list is in force, and its lines by blind index.
        var watchList = false
        var listedNationalIDs: [String: Int] = [:]
        var listedPhones: [String: Int] = [:]
        var listedIdentities: [String: Int] = [:]
    }

    func verificationContext(for beneficiaries: [BeneficiaryRow]) async throws -> VerificationContext {
        var context = VerificationContext()
        guard !beneficiaries.isEmpty else { return context }
        let ids = beneficiaries.compactMap(\.id)
        let projectsOf = try await EnrolmentStore.projects(of: ids, on: db)
        let countryOf = try await ProjectStore.defaultCountries(of: Array(Set(projectsOf.values.joined())), on: db)
        for (beneficiary, projects) in projectsOf {
            context.countries[beneficiary] = Set(projects.compactMap { countryOf[$0] })
        }
        let sql = try db.sql()
        context.byPhone = try await BeneficiaryStore.holders(
            of: .phone, beneficiaries.compactMap(\.phoneIndex), on: sql)
        context.byNationalID = try await BeneficiaryStore.holders(
            of: .nationalID, beneficiaries.compactMap(\.nationalIDIndex), on: sql)
        context.byIdentity = try await BeneficiaryStore.holders(
            of: .identity, beneficiaries.compactMap(\.identityIndex), on: sql)
        if let list = try await VerificationStore.currentWatchList(on: db), let listID = list.id {
            context.watchList = true
            context.listedNationalIDs = try await VerificationStore.listedLines(
                \.$nationalIDIndex, beneficiaries.compactMap(\.nationalIDIndex), in: listID, on: db)
            context.listedPhones = try await VerificationStore.listedLines(
                \.$phoneIndex, beneficiaries.compactMap(\.phoneIndex), in: listID, on: db)
            context.listedIdentities = try await VerificationStore.listedLines(
                \.$identityIndex, beneficiaries.compactMap(\.identityIndex), in: listID, on: db)
        }
        return context
    }

    /// Applies every rule to the beneficiary as it is now.
    func check(_ beneficiary: BeneficiaryRow, in context: VerificationContext) throws -> [VerificationCheck] {
        let id = try beneficiary.requireID()
        let sealing = "beneficiary:\(id.lowercasedString)"
        let name = try vault.open(beneficiary.nameSealed, context: "\(sealing):name")
        let phone = try beneficiary.phoneSealed.map { try vault.open($0, context: "\(sealing):phone") }
        let nationalID = try beneficiary.nationalIDSealed.map {
            try vault.open($0, context: "\(sealing):national_id")
        }
        var checks: [VerificationCheck] = []

        // Required fields.
        let missing = kyc.requiredFields.filter { field in
            switch field {
            case "name": name.trimmingCharacters(in: .whitespaces).isEmpty
            case "phone": phone == nil
            case "email": beneficiary.emailSealed == nil
            case "nationalId": nationalID == nil
            case "birthDate": beneficiary.birthDate == nil
            case "gender": beneficiary.gender == "unknown"
            case "location": beneficiary.location == nil
            default: false
            }
        }
        checks.append(
            VerificationCheck(
                rule: "required_fields", result: missing.isEmpty ? .passed : .failed,
                detail: missing.isEmpty ? nil : "missing \(missing.joined(separator: ", "))"))

        // The countries the beneficiary's phone and national ID should belong to.
        var countries = context.countries[id] ?? []
        if countries.isEmpty, let country = kyc.country { countries = [country] }
        let countryList = countries.sorted().joined(separator: " or ")

        if let phone, !countries.isEmpty {
            let codes = countries.compactMap(PhoneNumber.callingCode(of:))
            let matches = codes.contains { phone.hasPrefix("+" + $0) }
            checks.append(
                VerificationCheck(
                    rule: "phone_country", result: matches ? .passed : .review,
                    detail: matches ? nil : "phone is not a number of \(countryList)"))
        } else {
            checks.append(
                VerificationCheck(
                    rule: "phone_country", result: .skipped, detail: phone == nil ? "no phone" : "no country known"))
        }

        let formats = countries.compactMap { kyc.nationalIDFormats[$0] }
        if let nationalID, !formats.isEmpty {
            let normalized = Self.normalizedNationalID(nationalID)
            let matches = try formats.contains { try Regex($0).wholeMatch(in: normalized) != nil }
            checks.append(
                VerificationCheck(
                    rule: "national_id_format", result: matches ? .passed : .failed,
                    detail: matches ? nil : "national ID does not have the format of \(countryList)"))
        } else {
            checks.append(
                VerificationCheck(
                    rule: "national_id_format", result: .skipped,
                    detail: nationalID == nil ? "no national ID" : "no format configured for the country"))
        }

        checks.append(
            Self.duplicateCheck(
                "duplicate_phone", label: "phone", of: id,
                others: beneficiary.phoneIndex.map { context.byPhone[$0] ?? [] }))
        checks.append(
            Self.duplicateCheck(
                "duplicate_national_id", label: "national ID", of: id,
                others: beneficiary.nationalIDIndex.map { context.byNationalID[$0] ?? [] }))

        if let identity = beneficiary.identityIndex {
            let others = (context.byIdentity[identity] ?? []).filter { $0.id != id && !$0.archived }
                .prefix(5).map(\.id.lowercasedString)
            checks.append(
                VerificationCheck(
                    rule: "likely_duplicate", result: others.isEmpty ? .passed : .review,
                    detail: others.isEmpty
                        ? nil : "same name and birth date as beneficiary \(others.joined(separator: ", "))"))
        } else {
            checks.append(VerificationCheck(rule: "likely_duplicate", result: .skipped, detail: "no birth date"))
        }

        checks.append(Self.watchListCheck(beneficiary, in: context))
        return checks
    }

    /// Another beneficiary with the same blind index (`others`, `nil` without a value): a live
    /// one rejects, an archived one needs review.
    private static func duplicateCheck(
        _ rule: String, label: String, of id: UUID, others: [BeneficiaryStore.IndexHolder]?
    ) -> VerificationCheck {
        guard let others else { return VerificationCheck(rule: rule, result: .skipped, detail: "no \(label)") }
        let elsewhere = others.filter { $0.id != id }
        if let live = elsewhere.first(where: { !$0.archived }) {
            return VerificationCheck(
                rule: rule, result: .failed,
                detail: "\(label) is registered to beneficiary \(live.id.lowercasedString)")
        }
        if let archived = elsewhere.first {
            return VerificationCheck(
                rule: rule, result: .review,
                detail: "\(label) belonged to archived beneficiary \(archived.id.lowercasedString)")
        }
        return VerificationCheck(rule: rule, result: .passed)
    }

    private static func watchListCheck(
        _ beneficiary: BeneficiaryRow, in context: VerificationContext
    ) -> VerificationCheck {
        guard context.watchList else {
            return VerificationCheck(rule: "watch_list", result: .skipped, detail: "no watch list uploaded")
        }
        let keys: [(String, [String: Int], String?)] = [
            ("national ID", context.listedNationalIDs, beneficiary.nationalIDIndex),
            ("phone", context.listedPhones, beneficiary.phoneIndex),
            ("name and birth date", context.listedIdentities, beneficiary.identityIndex),
        ]
        for (label, lines, value) in keys {
            guard let value, let line = lines[value] else { continue }
            // The line, not the list's own words, which may describe the listed person.
            return VerificationCheck(
                rule: "watch_list", result: .review, detail: "matches watch-list line \(line) by \(label)")
        }
        return VerificationCheck(rule: "watch_list", result: .passed)
    }

    // MARK: Review

    /// A reviewer's decision on the beneficiary's latest run, which must need review.
    func decideVerification(
        beneficiaryID id: String, decision: String, note: String, by caller: Principal
    ) async throws -> VerificationInfo {
        try caller.require(Permission(.beneficiary, .approve))
        var violations: [FieldViolation] = []
        let beneficiaryID = parseID(id, field: "beneficiaryId", into: &violations)
        let decided = VerificationStatus(rawValue: decision)
        if decided != .verified && decided != .rejected {
            violations.append(FieldViolation(field: "decision", reason: "must be verified or rejected"))
        }
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        if note.isEmpty {
            violations.append(FieldViolation(field: "note", reason: "is required: say why"))
        } else if note.count > 2000 {
            violations.append(FieldViolation(field: "note", reason: "must be at most 2000 characters"))
        }
        guard violations.isEmpty, let beneficiaryID, let decided else { throw CoreError.invalidInput(violations) }
        guard let decidedStatus = BeneficiaryVerification(outcome: decided) else {
            throw UndecidedVerification(status: decided)
        }
        guard let beneficiary = try await BeneficiaryStore.find(beneficiaryID, on: db), beneficiary.archivedAt == nil
        else { throw CoreError.beneficiaryNotFound }
        guard let runID = beneficiary.verificationID,
            beneficiary.verificationStatus == BeneficiaryVerification.needsReview.rawValue
        else { throw CoreError.verificationNotInReview(beneficiary.verificationStatus) }
        let now = self.now()
        let reviewer = caller.userID
        try await changeBeneficiaries([beneficiaryID]) { tx in
            let sql = try tx.sql()
            // The note stays on the run, for those who read runs; the record says who decided.
            let changed = try await VerificationStore.decideBeneficiary(
                beneficiaryID, run: runID, as: decidedStatus, reason: "decided by a reviewer", on: sql)
            // A change or another reviewer got there first.
            guard changed else { throw CoreError.verificationNotInReview("changed meanwhile") }
            try await VerificationStore.recordReview(
                runID, by: reviewer, decision: decided, note: note, at: now, on: sql)
            let reasons = try await VerificationStore.find(runID, on: tx).map {
                try Self.decode([String].self, $0.reasons)
            }
            return [
                try CoreEvents.verificationDecided(
                    decided, beneficiaryID: beneficiaryID, verificationID: runID, reasons: reasons ?? [],
                    decidedBy: reviewer, at: now)
            ]
        }
        guard let run = try await VerificationStore.find(runID, on: db) else { throw CoreError.verificationNotFound }
        return try Self.verificationInfo(run)
    }

    // MARK: Read

    /// A check run, to whoever may read its beneficiary; to anyone else who reads people it is
    /// not there.
    func getVerification(_ id: String, by caller: Principal) async throws -> VerificationInfo {
        let runID = try parseID(id)
        guard caller.permissions.allowsAnywhere(.beneficiary, .read) else {
            throw CoreError.permissionDenied("This action needs the permission 'beneficiary:read'.")
        }
        guard let run = try await VerificationStore.find(runID, on: db),
            try await allows(caller, .beneficiary, .read, beneficiary: run.beneficiaryID)
        else { throw CoreError.verificationNotFound }
        return try Self.verificationInfo(run)
    }

    /// Check runs oldest first, so reviewers work through `needs_review` in the order it arose.
    /// The whole queue is for registry-wide readers; a grant scoped to a project reads that
    /// project's queue (`projectId`) or asks about one of its people (`beneficiaryId`).
    func listVerifications(
        status: String?, beneficiaryID: String?, projectID: String? = nil, limit: Int, cursor: String?,
        by caller: Principal
    ) async throws -> ([VerificationInfo], String?) {
        var violations: [FieldViolation] = []
        let project = parseID(projectID, field: "projectId", into: &violations)
        let scopedOnly = !caller.permissions.allows(Permission(.beneficiary, .read))
        if let project {
            try caller.require(Permission(.beneficiary, .read, projectID: project.lowercasedString))
        } else if scopedOnly && (beneficiaryID == nil || !caller.permissions.allowsAnywhere(.beneficiary, .read)) {
            try caller.require(Permission(.beneficiary, .read))
        }
        if let status, VerificationStatus(rawValue: status) == nil {
            violations.append(
                FieldViolation(
                    field: "status",
                    reason: "must be one of \(VerificationStatus.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        let beneficiary = parseID(beneficiaryID, field: "beneficiaryId", into: &violations)
        let page: ServerKit.PageRequest<UUID>
        switch PageRequest<UUID>.validate(limit: limit, cursor: cursor) {
        case .success(let valid): page = valid
        case .failure(let error): throw error
        }
        guard violations.isEmpty else { throw CoreError.invalidInput(violations) }
        if scopedOnly, project == nil, let beneficiary,
            try await !allows(caller, .beneficiary, .read, beneficiary: beneficiary)
        {
            throw CoreError.beneficiaryNotFound
        }
        let (after, limit) = (page.after, page.limit + 1)
        let runs = try await database.replicaRead { db in
            try await VerificationStore.page(
                status: status, beneficiary: beneficiary, project: project, after: after, limit: limit, on: db)
        }
        let (rows, next) = try page.page(of: runs) { try $0.requireID() }
        return (try rows.map(Self.verificationInfo), next)
    }

    // MARK: Watch list

    /// Replaces the watch list with the rows of a CSV file; rows it cannot use are reported.
    func uploadWatchList(
        csv: Data, fileName: String?, defaultCountry: String?, by caller: Principal
    ) async throws -> WatchListInfo {
        try caller.require(Permission(.beneficiary, .approve))
        guard csv.count <= Self.watchListMaxBytes else {
            throw CoreError.invalidInput([
                FieldViolation(field: "file", reason: "must be at most \(Self.watchListMaxBytes) bytes")
            ])
        }
        if let defaultCountry, PhoneNumber.callingCode(of: defaultCountry) == nil {
            throw CoreError.invalidInput([
                FieldViolation(field: "country", reason: "is not a country whose phone numbers are known")
            ])
        }
        var parser = CSVParser()
        let records = parser.feed(csv) + parser.finish()
        guard let headerRecord = records.first, case .success(let header) = headerRecord.fields else {
            throw CoreError.invalidInput([FieldViolation(field: "file", reason: "must start with a header line")])
        }
        let known = ["name", "birthdate", "nationalid", "phone", "reason"]
        let columns = header.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "_", with: "")
        }
        let unknown = columns.filter { !known.contains($0) }
        if !unknown.isEmpty || !columns.contains(where: { ["nationalid", "phone", "name"].contains($0) }) {
            throw CoreError.invalidInput([
                FieldViolation(
                    field: "file",
                    reason: unknown.isEmpty
                        ? "the header needs a nationalId, phone or name column"
                        : "unknown columns \(unknown.joined(separator: ", ")); use name, birthDate, nationalId, phone, reason"
                )
            ])
        }
        let listID = UUID.v7(at: now())
        var entries: [WatchListEntryRow] = []
        var rejected: [(line: Int, reason: String)] = []
        for record in records.dropFirst() {
            guard case .success(let fields) = record.fields else {
                rejected.append((record.line, "the line cannot be read"))
                continue
            }
            guard fields.count == columns.count else {
                rejected.append((record.line, "has \(fields.count) fields; the header has \(columns.count)"))
                continue
            }
            var values: [String: String] = [:]
            for (column, value) in zip(columns, fields) {
                let trimmed = value.trimmingCharacters(in: .whitespaces)
                if !trimmed.isEmpty { values[column] = trimmed }
            }
            let entry = WatchListEntryRow()
            entry.id = UUID.v7(at: now())
            entry.listID = listID
            entry.line = record.line
            entry.reason = values["reason"].map { String($0.prefix(500)) }
            if let nationalID = values["nationalid"] {
                entry.nationalIDIndex = vault.blindIndex(Self.normalizedNationalID(nationalID), purpose: "national_id")
            }
            if let phone = values["phone"] {
                switch PhoneNumber.parse(phone, defaultCountry: defaultCountry) {
                case .success(let number): entry.phoneIndex = vault.blindIndex(number.e164, purpose: "phone")
                case .failure(let problem):
                    rejected.append((record.line, "phone: \(problem.description)"))
                    continue
                }
            }
            if let birthDate = values["birthdate"], !Self.isValidBirthDate(birthDate, today: now()) {
                rejected.append((record.line, "birthDate: must be a past date written YYYY-MM-DD"))
                continue
            }
            if let name = values["name"], let birthDate = values["birthdate"] {
                entry.identityIndex = identityIndex(name: name, birthDate: birthDate)
            }
            guard entry.nationalIDIndex != nil || entry.phoneIndex != nil || entry.identityIndex != nil else {
                rejected.append((record.line, "needs a nationalId, a phone, or a name with a birthDate"))
                continue
            }
            entries.append(entry)
        }
        // A file none of whose rows can match anyone would switch the screening off unnoticed.
        guard !entries.isEmpty else {
            throw CoreError.invalidInput([
                FieldViolation(
                    field: "file",
                    reason: "has no usable row"
                        + (rejected.first.map { " (line \($0.line): \($0.reason))" } ?? ""))
            ])
        }
        let now = self.now()
        let newEntries = entries
        let fileName = fileName.map { String($0.prefix(255)) }
        let uploader = caller.userID
        let list = try await database.transaction { tx in
            // One list is in force: the new one replaces the old, entries and all.
            let list = try await VerificationStore.replaceWatchList(
                listID, fileName: fileName, entries: newEntries, uploadedBy: uploader, at: now, on: tx)
            try await Outbox.append(
                try CoreEvents.watchListReplaced(listID, entries: newEntries.count, uploadedBy: caller.userID, at: now),
                on: tx)
            return list
        }
        var info = Self.watchListInfo(list)
        info.rejected = rejected
        return info
    }

    func getWatchList(by caller: Principal) async throws -> WatchListInfo {
        try caller.require(Permission(.beneficiary, .approve))
        guard let list = try await VerificationStore.currentWatchList(on: db) else {
            return WatchListInfo(id: nil, entries: 0)
        }
        return Self.watchListInfo(list)
    }

    // MARK: Helpers

    /// The blind index likely duplicates share: the name's words in order (so "Rai, Sunita" meets
    /// "Sunita Rai"), with the birth date.
    func identityIndex(name: String, birthDate: String) -> String {
        vault.blindIndex(Self.nameWords(name).sorted().joined(separator: " ") + "|" + birthDate, purpose: "identity")
    }

    static func verificationInfo(_ row: VerificationRow) throws -> VerificationInfo {
        VerificationInfo(
            id: try row.requireID(), beneficiaryID: row.beneficiaryID, status: row.status,
            checks: try decode([VerificationCheck].self, row.checks), reasons: try decode([String].self, row.reasons),
            requestedAt: row.requestedAt, checkedAt: row.checkedAt, jobID: row.jobID, reviewerID: row.reviewerID,
            decision: row.decision, note: row.note, decidedAt: row.decidedAt)
    }

    static func watchListInfo(_ row: WatchListRow) -> WatchListInfo {
        WatchListInfo(
            id: row.id, entries: row.entries, fileName: row.fileName, uploadedBy: row.uploadedBy,
            uploadedAt: row.uploadedAt)
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

/// An outcome event was asked for a verification that decided nothing: a programming error.
struct UndecidedVerification: Error, CustomStringConvertible {
    var status: VerificationStatus
    var description: String { "a verification that is \(status.rawValue) has no outcome to publish" }
}
