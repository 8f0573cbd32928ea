import CoreAPI
import FluentKit
import Foundation
import MetricCatalog
import Metrics
import Persistence
import ServerKit
import ServiceLifecycle
import SharedModels
import Synchronization

/// One data row of an import file, before validation.
struct ImportRecord: Sendable {
    var line: Int
    /// Column (canonical name) → value; `nil` when the row could not be read at all.
    var values: [String: String]?
    var problem: String?
}

/// Why a whole import stopped.
struct ImportFailure: Error, Sendable {
    var reason: String
}

/// The process is shutting down: the import goes back to the queue and resumes after its last batch.
struct ImportPaused: Error, Sendable {}

/// Another runner holds the import now (this one's lease lapsed): stop without writing.
struct ImportLost: Error, Sendable {}

/// A test's stand-in for a killed process: the run stops without releasing its claim.
struct ImportCrashed: Error, Sendable {}

/// A runner's hold on one import.
struct ImportClaim: Sendable {
    var id: UUID
    var token: UUID
    /// Which run of the import this is, counting from 1.
    var attempt: Int
}

extension CoreDomain {
    /// How long a runner holds an import before another may take it over.
    static let importLease: TimeInterval = 120

    /// How many runs an import gets before it is failed: a file that stops every run (a crash,
    /// an error the data provokes) must not block the queue.
    static let importMaxAttempts = 5

    /// Takes import `id` (or the oldest) when it is queued, or its runner stopped renewing its
    /// lease, under a new claim token. The claim is one conditional `UPDATE … RETURNING`, so of
    /// several runners (in several processes) exactly one wins it. `nil` when there is nothing to do.
    ///
    /// `overLease` takes a running import whatever its lease: the import's job does, since the
    /// job queue's lock already keeps its runs apart, and a run that job lost (its worker hung)
    /// is stopped by its next `holdImport`.
    func claimImport(id wanted: UUID? = nil, overLease: Bool = false) async throws -> ImportClaim? {
        let sql = try db.sql()
        let now = self.now()
        // Far enough ahead that every lease has run out by it.
        let leaseCutoff = overLease ? now.addingTimeInterval(Self.importLease * 1000) : now
        let candidates = try await ImportStore.claimable(wanted, leaseCutoff: leaseCutoff, limit: 5, on: db)
        for candidate in candidates {
            guard let id = candidate.id else { continue }
            let token = UUID()
            guard
                let attempt = try await ImportStore.claim(
                    id, token: token, at: now, leaseUntil: now.addingTimeInterval(Self.importLease),
                    leaseCutoff: leaseCutoff, on: sql)
            else { continue }
            return ImportClaim(id: id, token: token, attempt: attempt)
        }
        return nil
    }

    /// Renews the claim's lease inside `tx`, or throws ``ImportLost`` when another runner has taken
    /// the import over; on PostgreSQL the row stays locked until `tx` ends.
    func holdImport(_ claim: ImportClaim, on tx: any Database) async throws {
        let held = try await ImportStore.renewLease(
            claim.id, token: claim.token, until: now().addingTimeInterval(Self.importLease), on: try tx.sql())
        if !held { throw ImportLost() }
    }

    /// Gives a claimed import back to the queue (a shutdown, or an error worth another run).
    func releaseImport(_ claim: ImportClaim, countingThisRun: Bool) async throws {
        try await ImportStore.release(claim.id, token: claim.token, countingThisRun: countingThisRun, on: try db.sql())
    }

    /// Deletes uploads a crashed process left half-received, with their pieces.
    func purgeAbandonedUploads(olderThan age: TimeInterval) async throws {
        let cutoff = now().addingTimeInterval(-age)
        let abandoned = try await ImportStore.uploads(startedBefore: cutoff, on: db)
        guard !abandoned.isEmpty else { return }
        try await database.transaction { tx in try await ImportStore.deleteUploads(abandoned, on: tx) }
        logger.notice("removed abandoned uploads", metadata: ["count": "\(abandoned.count)"])
    }

    /// Runs one claimed import to the end: reads its stored file in order, validates and writes
    /// its rows a batch at a time (each batch one transaction that also records how far the
    /// import got, so a restarted run resumes there), and finishes it. After each committed batch
    /// `progress` hears how much of the file is done (percent of its bytes) and the rows so far.
    func runImport(
        _ claim: ImportClaim, crashingAfterBatches: Int? = nil,
        progress: (@Sendable (_ percent: Int, _ rows: Int) async throws -> Void)? = nil
    ) async throws {
        let id = claim.id
        guard let row = try await ImportStore.find(id, on: db), row.claimToken == claim.token else { return }
        let startLine = row.processedLine
        var run = ImportRun(domain: self, row: row, claim: claim)
        let writer = run.writer
        // One batch is written while the next is read and screened: the database and the
        // validation (encryption, blind indexes) work at the same time.
        var writing: Task<Void, any Error>?
        var committed = 0
        var bytesRead = 0
        func awaitWrite() async throws {
            guard let task = writing else { return }
            writing = nil
            try await task.value
            committed += 1
            if let progress, row.bytes > 0 {
                try await progress(min(99, bytesRead * 100 / row.bytes), row.rows)
            }
            if let crashingAfterBatches, committed >= crashingAfterBatches { throw ImportCrashed() }
            // An import can grow the tables it checks many times over faster than autovacuum
            // notices; on stale statistics PostgreSQL plans the duplicate checks as full scans,
            // and the import slows quadratically. Refresh them as the import doubles its work.
            if committed.nonzeroBitCount == 1, committed >= 2 {
                do {
                    try await refreshPlannerStatistics()
                } catch {
                    // Only an optimisation: a refused ANALYZE must not cost the import an attempt.
                    logger.warning("could not refresh planner statistics", metadata: ["error": "\(error)"])
                }
            }
        }
        var batch: [ImportRecord] = []
        func flush() async throws {
            guard !batch.isEmpty else { return }
            let screened = try run.screen(batch)
            batch.removeAll(keepingCapacity: true)
            try await awaitWrite()
            if Task.isShuttingDownGracefully { throw ImportPaused() }
            writing = Task { try await writer.write(screened) }
        }
        do {
            if claim.attempt > Self.importMaxAttempts {
                throw ImportFailure(
                    reason: "processing stopped \(Self.importMaxAttempts) times at line \(startLine + 1) or later; "
                        + "the \(row.rows) rows before it are accounted for")
            }
            var header: [String]?
            var csv = CSVParser()
            var jsonLines = LineSplitter()
            var seq = 0
            var replayed = 0
            func take(_ records: [ImportRecord]) async throws {
                for record in records {
                    guard record.line > startLine else {
                        // Already written by an earlier run: only remember what it holds, so a
                        // repeat further down is still reported against its first line. Replaying
                        // a long prefix takes a while: keep the lease and heed a shutdown meanwhile.
                        _ = try run.screen([record])
                        replayed += 1
                        if replayed % importBatchRows == 0 {
                            if Task.isShuttingDownGracefully { throw ImportPaused() }
                            try await database.transaction { tx in try await self.holdImport(claim, on: tx) }
                        }
                        continue
                    }
                    batch.append(record)
                    if batch.count >= importBatchRows { try await flush() }
                }
            }
            func decode(csv records: [CSVParser.Record]) throws -> [ImportRecord] {
                var out: [ImportRecord] = []
                for record in records {
                    switch record.fields {
                    case .failure(let problem):
                        if header == nil { throw ImportFailure(reason: "the header line \(problem)") }
                        out.append(ImportRecord(line: record.line, values: nil, problem: "the line \(problem)"))
                    case .success(let fields):
                        guard let columns = header else {
                            header = try Self.importHeader(fields)
                            continue
                        }
                        if fields.count != columns.count {
                            out.append(
                                ImportRecord(
                                    line: record.line, values: nil,
                                    problem: "has \(fields.count) fields; the header has \(columns.count)"))
                            continue
                        }
                        var values: [String: String] = [:]
                        for (column, value) in zip(columns, fields) where !value.isEmpty { values[column] = value }
                        out.append(ImportRecord(line: record.line, values: values, problem: nil))
                    }
                }
                return out
            }
            while true {
                guard let chunk = try await ImportStore.chunk(seq, of: id, on: db) else { break }
                seq += 1
                bytesRead += chunk.data.count
                switch run.format {
                case .csv: try await take(try decode(csv: csv.feed(chunk.data)))
                case .jsonLines: try await take(jsonLines.feed(chunk.data).map(Self.jsonLineRecord))
                }
            }
            switch run.format {
            case .csv:
                try await take(try decode(csv: csv.finish()))
                if header == nil { throw ImportFailure(reason: "the file has no header line") }
            case .jsonLines:
                try await take(jsonLines.finish().map(Self.jsonLineRecord))
            }
            try await flush()
            try await awaitWrite()
            try await writer.complete()
        } catch {
            // A write still in flight ends (commits or fails) before the run decides what happened.
            if let writing { _ = await writing.result }
            switch error {
            case let failure as ImportFailure:
                try await writer.fail(failure.reason)
            case is ImportPaused:
                try await releaseImport(claim, countingThisRun: false)
            case is ImportCrashed:
                return
            case is ImportLost:
                logger.warning(
                    "another runner took over an import", metadata: ["import_id": "\(id.lowercasedString)"])
            default:
                // Another run may get past a transient fault; one the data provokes ends at the attempt limit.
                logger.error(
                    "import run failed",
                    metadata: ["import_id": "\(id.lowercasedString)", "error": "\(String(reflecting: error))"])
                try await releaseImport(claim, countingThisRun: true)
            }
        }
    }

    /// Brings the planner's statistics for the tables imports write up to date (see
    /// ``ImportStore/refreshPlannerStatistics(on:)``).
    func refreshPlannerStatistics() async throws {
        try await ImportStore.refreshPlannerStatistics(on: try db.sql())
    }

    /// Maps a CSV header to canonical column names; a missing `name` or an unknown or repeated
    /// column fails the import, since guessing would drop data silently.
    static func importHeader(_ fields: [String]) throws -> [String] {
        var columns: [String] = []
        var unknown: [String] = []
        for field in fields {
            guard let column = importColumn(field) else {
                unknown.append(field)
                continue
            }
            if columns.contains(column) { throw ImportFailure(reason: "the column '\(field)' appears twice") }
            columns.append(column)
        }
        if !unknown.isEmpty {
            throw ImportFailure(
                reason: "unknown column(s): \(unknown.joined(separator: ", ")); accepted: "
                    + importColumns.values.sorted().joined(separator: ", "))
        }
        guard columns.contains("name") else { throw ImportFailure(reason: "the required column 'name' is missing") }
        return columns
    }

    /// One JSON object per line, with the same keys as the CSV columns.
    static func jsonLineRecord(_ line: LineSplitter.Line) -> ImportRecord {
        guard case .success(let text) = line.text else {
            return ImportRecord(line: line.number, values: nil, problem: "the line is not valid UTF-8 text")
        }
        guard let data = text.data(using: .utf8),
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else {
            return ImportRecord(line: line.number, values: nil, problem: "the line is not a JSON object")
        }
        var values: [String: String] = [:]
        for (key, value) in object {
            guard let column = importColumn(key) else {
                return ImportRecord(line: line.number, values: nil, problem: "has the unknown field '\(key)'")
            }
            switch value {
            case let text as String: if !text.isEmpty { values[column] = text }
            case let number as NSNumber: values[column] = number.stringValue
            case is NSNull: break
            case let nested as [String: Any] where column == "extras":
                if let json = try? JSONSerialization.data(withJSONObject: nested) {
                    values[column] = String(decoding: json, as: UTF8.self)
                }
            default:
                return ImportRecord(
                    line: line.number, values: nil, problem: "the field '\(key)' must be text or a number")
            }
        }
        return ImportRecord(line: line.number, values: values, problem: nil)
    }
}

/// Splits bytes into lines, in constant memory, for JSON-lines files.
struct LineSplitter: Sendable {
    struct Line: Sendable {
        var number: Int
        var text: Result<String, CSVParser.Problem>
    }

    let maxLineBytes = 64 * 1024
    private var buffer: [UInt8] = []
    private var number = 0
    private var overlong = false

    mutating func feed(_ bytes: some Sequence<UInt8>) -> [Line] {
        var lines: [Line] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                emit(into: &lines)
            } else if buffer.count < maxLineBytes {
                buffer.append(byte)
            } else {
                overlong = true
            }
        }
        return lines
    }

    mutating func finish() -> [Line] {
        var lines: [Line] = []
        if !buffer.isEmpty || overlong { emit(into: &lines) }
        return lines
    }

    private mutating func emit(into lines: inout [Line]) {
        number += 1
        defer {
            buffer.removeAll(keepingCapacity: true)
            overlong = false
        }
        if number == 1, buffer.starts(with: [0xEF, 0xBB, 0xBF]) { buffer.removeFirst(3) }
        if buffer.last == UInt8(ascii: "\r") { buffer.removeLast() }
        if overlong {
            lines.append(Line(number: number, text: .failure(.tooLong(limit: maxLineBytes))))
            return
        }
        guard !buffer.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) else { return }
        guard let text = String(validating: buffer, as: UTF8.self) else {
            lines.append(Line(number: number, text: .failure(.invalidUTF8)))
            return
        }
        lines.append(Line(number: number, text: .success(text)))
    }
}

/// The state of one import while it runs: its counters and the duplicates seen in the file so far.
struct ImportRun: Sendable {
    let domain: CoreDomain
    let row: ImportRow
    let claim: ImportClaim
    let format: ImportFormat
    let policy: DuplicatePolicy
    let defaultCountry: String?
    private var phonesSeen = SeenIndexes()
    private var nationalIDsSeen = SeenIndexes()
    private var walletsSeen: [String: Int] = [:]

    init(domain: CoreDomain, row: ImportRow, claim: ImportClaim) {
        self.domain = domain
        self.row = row
        self.claim = claim
        // Copied, not read from `row` while a write updates that row's counters on another task.
        defaultCountry = row.defaultCountry
        format = ImportFormat(rawValue: row.format) ?? .csv
        policy = DuplicatePolicy(rawValue: row.onDuplicate) ?? .reject
    }

    /// A batch after validation and the file's own duplicate checks, before the database's.
    struct Screened: Sendable {
        var rejects: [(line: Int, column: String, reason: String)] = []
        var candidates: [(line: Int, row: BeneficiaryRow, input: BeneficiaryInput)] = []
        var duplicates = 0
        /// How many records the batch held, and the line of its last.
        var records = 0
        var lastLine = 0
    }

    /// Validates records and sorts out repeats within the file, remembering what each new row holds.
    mutating func screen(_ records: [ImportRecord]) throws -> Screened {
        let now = domain.now()
        var rejects: [(line: Int, column: String, reason: String)] = []
        var found: [(line: Int, row: BeneficiaryRow, input: BeneficiaryInput)] = []
        var duplicates = 0
        for record in records {
            guard let values = record.values else {
                rejects.append((record.line, "", record.problem ?? "could not be read"))
                continue
            }
            var violations: [FieldViolation] = []
            let input = BeneficiaryInput(importValues: values, defaultCountry: defaultCountry, into: &violations)
            let beneficiary = BeneficiaryRow()
            beneficiary.id = UUID.v7(at: now)
            try domain.apply(input, fields: nil, to: beneficiary, violations: &violations)
            if !violations.isEmpty {
                rejects += violations.map { (record.line, $0.field, $0.reason) }
                continue
            }
            // Each index parsed once, for the check and, if the row is kept, the record.
            let phone = beneficiary.phoneIndex.map(SeenIndexes.Key.init)
            let nationalID = beneficiary.nationalIDIndex.map(SeenIndexes.Key.init)
            if let phone, let first = phonesSeen.firstLine(of: phone) {
                rejects.append((record.line, "phone", "duplicate: repeats line \(first) of this file"))
                duplicates += 1
                continue
            }
            if let nationalID, let first = nationalIDsSeen.firstLine(of: nationalID) {
                rejects.append((record.line, "nationalId", "duplicate: repeats line \(first) of this file"))
                duplicates += 1
                continue
            }
            if let wallet = beneficiary.walletAddress, let first = walletsSeen[wallet] {
                rejects.append((record.line, "walletAddress", "repeats line \(first) of this file"))
                continue
            }
            if let phone { phonesSeen.remember(phone, at: record.line) }
            if let nationalID { nationalIDsSeen.remember(nationalID, at: record.line) }
            if let wallet = beneficiary.walletAddress { walletsSeen[wallet] = record.line }
            found.append((record.line, beneficiary, input))
        }
        return Screened(
            rejects: rejects, candidates: found, duplicates: duplicates, records: records.count,
            lastLine: records.last?.line ?? 0)
    }

    /// What writes screened batches: the run's fixed parts, without its duplicate maps, so a
    /// write can proceed while the next batch is screened.
    var writer: ImportBatchWriter { ImportBatchWriter(domain: domain, row: row, claim: claim, policy: policy) }
}

/// The blind indexes an import has seen, each with the line it first appeared on.
///
/// A run keeps one entry per row for the whole file, so an entry's size is what bounds the
/// worker's memory on a large file. As 64-digit text an index costs a heap allocation beside its
/// dictionary slot (about 130 bytes an entry: 260 MB for the phones and national IDs of a million
/// rows). Here an entry is one 16-byte slot: the index's first 64 bits are the key, and its next
/// 32 bits share the value with the line. Two different values agree on those 96 bits with a
/// probability near 2⁻⁹⁶ per pair (about 10⁻¹⁷ for a million-row file), far below any error the
/// file itself can hold; values that agree on the first 64 bits only are kept apart in `clashes`.
struct SeenIndexes: Sendable {
    /// The first 96 bits of an HMAC-SHA256 blind index.
    struct Digest: Hashable {
        var high: UInt64
        var low: UInt32

        /// The digest of 64 lowercase hexadecimal digits; `nil` for anything else.
        init?(hex: String) {
            var high: UInt64 = 0
            var low: UInt32 = 0
            var digits = 0
            for byte in hex.utf8 {
                let nibble: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
                default: return nil
                }
                switch digits {
                case 0..<16: high = high << 4 | UInt64(nibble)
                case 16..<24: low = low << 4 | UInt32(nibble)
                default: break
                }
                digits += 1
            }
            guard digits == 64 else { return nil }
            self.high = high
            self.low = low
        }
    }

    /// A blind index as the maps hold it: its digest, or its text if it is not one.
    enum Key {
        case digest(Digest)
        case text(String)

        init(_ index: String) {
            self = Digest(hex: index).map(Key.digest) ?? .text(index)
        }
    }

    /// First 64 bits → the next 32 (high half) and the line (low half).
    private var slots: [UInt64: UInt64] = [:]
    /// Digests whose first 64 bits an earlier, different digest took, and lines past 32 bits.
    private var clashes: [Digest: Int] = [:]
    /// Values that are not a digest's hexadecimal form (none today), kept as they are.
    private var others: [String: Int] = [:]

    /// The line `key` was first seen on, or `nil`.
    func firstLine(of key: Key) -> Int? {
        switch key {
        case .digest(let digest):
            if let slot = slots[digest.high], UInt32(truncatingIfNeeded: slot >> 32) == digest.low,
                slot & 0xFFFF_FFFF != 0xFFFF_FFFF
            {
                return Int(slot & 0xFFFF_FFFF)
            }
            return clashes[digest]
        case .text(let text):
            return others[text]
        }
    }

    /// Remembers that `key` appears on `line`, unless it was seen before.
    mutating func remember(_ key: Key, at line: Int) {
        switch key {
        case .digest(let digest):
            guard firstLine(of: key) == nil else { return }
            // A line that does not fit in 32 bits is marked (all ones) and kept beside the slots.
            let fits = line >= 0 && line < 0xFFFF_FFFF
            if slots[digest.high] == nil {
                slots[digest.high] = UInt64(digest.low) << 32 | (fits ? UInt64(line) : 0xFFFF_FFFF)
                if fits { return }
            }
            clashes[digest] = line
        case .text(let text):
            if others[text] == nil { others[text] = line }
        }
    }
}

/// Writes one screened batch of an import in one transaction.
struct ImportBatchWriter: Sendable {
    let domain: CoreDomain
    let row: ImportRow
    let claim: ImportClaim
    let policy: DuplicatePolicy

    /// Checks the batch against registered beneficiaries and writes everything it decided, with
    /// the import's counters and resume point, in one transaction.
    func write(_ screened: ImportRun.Screened) async throws {
        let now = domain.now()
        let records = screened.records
        let lastLine = screened.lastLine
        let importRow = row
        let policy = policy
        let domain = domain
        let earlyRejects = screened.rejects
        let readDuplicates = screened.duplicates
        let candidates = screened.candidates
        let claim = claim
        // Beneficiaries this batch updates: their cached reads go once the batch has committed
        // (or failed to: a lost COMMIT may still have committed).
        let updated = UpdatedBeneficiaries()
        let before = (importRow.created, importRow.updated, importRow.duplicates, importRow.rejected)
        do {
            try await writeBatch()
        } catch {
            await domain.beneficiaryCache.invalidate(updated.ids)
            throw error
        }
        let rows = CoreServiceMetrics.importRows
        rows.counter("created").increment(by: importRow.created - before.0)
        rows.counter("updated").increment(by: importRow.updated - before.1)
        rows.counter("duplicate").increment(by: importRow.duplicates - before.2)
        rows.counter("rejected").increment(by: importRow.rejected - before.3)
        await domain.beneficiaryCache.invalidate(updated.ids)
        await domain.tellOldNumbers(updated.phoneChanges, at: now)

        @Sendable func writeBatch() async throws {
            try await domain.database.transaction { tx in
                try await domain.holdImport(claim, on: tx)
                // The project or group may have changed since the upload: stop rather than write past it.
                if let projectID = importRow.projectID {
                    guard let project = try await ProjectStore.find(projectID, on: tx),
                        project.status != ProjectStatus.closed.rawValue
                    else { throw ImportFailure(reason: "the project was closed or removed during the import") }
                }
                if let groupID = importRow.groupID, try await GroupStore.find(groupID, on: tx) == nil {
                    throw ImportFailure(reason: "the group was deleted during the import")
                }
                let walletOwners = try await BeneficiaryStore.walletOwners(
                    candidates.compactMap(\.row.walletAddress), on: tx)
                let existing = try await BeneficiaryStore.liveBeneficiaries(
                    phones: candidates.compactMap(\.row.phoneIndex),
                    nationalIDs: candidates.compactMap(\.row.nationalIDIndex), on: tx)
                var rejects = earlyRejects
                var fresh: [BeneficiaryRow] = []
                var changed: [BeneficiaryRow] = []
                // Updated people, written after the loop so that those whose checked fields
                // changed get their checks queued in one statement (and one job) first.
                var updates: [(row: BeneficiaryRow, fields: [String])] = []
                var recheck: [BeneficiaryRow] = []
                var duplicates = readDuplicates
                var events: [OutboxEvent] = []
                for candidate in candidates {
                    let byPhone = candidate.row.phoneIndex.flatMap { existing.byPhone[$0] }
                    let byNationalID = candidate.row.nationalIDIndex.flatMap { existing.byNationalID[$0] }
                    let match = byPhone ?? byNationalID
                    // A wallet address belongs to one beneficiary, archived ones included; a row that
                    // updates its holder may keep it.
                    if let wallet = candidate.row.walletAddress, let owner = walletOwners[wallet],
                        match == nil || (policy == .update && owner != match?.id)
                    {
                        rejects.append((candidate.line, "walletAddress", "is already used by another beneficiary"))
                        continue
                    }
                    guard let match else {
                        candidate.row.verificationStatus = BeneficiaryVerification.unverified.rawValue
                        candidate.row.createdBy = importRow.createdBy
                        candidate.row.createdAt = now
                        candidate.row.updatedAt = now
                        fresh.append(candidate.row)
                        continue
                    }
                    let field = byPhone != nil ? "phone" : "nationalId"
                    switch policy {
                    case .reject:
                        duplicates += 1
                        rejects.append((candidate.line, field, "duplicate: already registered to another beneficiary"))
                    case .skip:
                        duplicates += 1
                        rejects.append((candidate.line, field, "duplicate: skipped, already registered"))
                    case .update:
                        if let byPhone, let byNationalID, byPhone.id != byNationalID.id {
                            duplicates += 1
                            rejects.append(
                                (
                                    candidate.line, "nationalId",
                                    "duplicate: the phone and the national ID belong to different beneficiaries"
                                ))
                            continue
                        }
                        if changed.contains(where: { $0.id == match.id }) {
                            duplicates += 1
                            rejects.append(
                                (candidate.line, field, "duplicate: updates a beneficiary an earlier line updated"))
                            continue
                        }
                        var violations: [FieldViolation] = []
                        let fields = candidate.input.presentFields
                        let checked = try domain.verificationSnapshot(match)
                        let phoneBefore = PhoneOnRecord(match)
                        try domain.apply(candidate.input, fields: fields, to: match, violations: &violations)
                        guard violations.isEmpty else {
                            rejects += violations.map { (candidate.line, $0.field, $0.reason) }
                            continue
                        }
                        match.updatedAt = now
                        if let notice = try domain.markPhoneChange(of: match, before: phoneBefore, at: now) {
                            updated.append(notice)
                        }
                        if try domain.verificationSnapshot(match) != checked { recheck.append(match) }
                        changed.append(match)
                        if let id = match.id { updated.append(id) }
                        updates.append((match, fields.sorted()))
                    }
                }
                events += try await domain.queueVerifications(of: recheck, by: importRow.createdBy, at: now, on: tx)
                for update in updates {
                    try await BeneficiaryStore.save(update.row, on: tx)
                    events.append(
                        try CoreEvents.beneficiaryChanged(
                            Rahat_Core_V1_BeneficiaryChanged.updated, update.row, at: now, changed: update.fields))
                }
                if !fresh.isEmpty {
                    events += try await domain.queueVerifications(
                        of: fresh, by: importRow.createdBy, at: now, on: tx)
                    try await BeneficiaryStore.insert(fresh, on: tx)
                    events += try fresh.map {
                        try CoreEvents.beneficiaryChanged(
                            Rahat_Core_V1_BeneficiaryChanged.created, $0, at: now, changed: [])
                    }
                }
                // Beneficiaries this batch created cannot be enrolled or members yet: only those it
                // updated are looked up.
                let created = fresh.compactMap(\.id)
                let updatedIDs = changed.compactMap(\.id)
                if let projectID = importRow.projectID {
                    try await domain.enrolQuietly(updatedIDs, in: projectID, by: importRow.createdBy, at: now, on: tx)
                    try await EnrolmentStore.insert(
                        created, in: projectID, type: .enrolled, by: importRow.createdBy, at: now, on: tx)
                }
                if let groupID = importRow.groupID {
                    try await domain.addMembersQuietly(
                        updatedIDs, to: groupID, by: importRow.createdBy, at: now, on: tx)
                    try await GroupStore.insertMembers(created, into: groupID, by: importRow.createdBy, at: now, on: tx)
                }
                if !events.isEmpty { try await Outbox.append(events, on: tx) }
                let importID = try importRow.requireID()
                try await ImportStore.insertRejects(rejects, of: importID, at: now, on: tx)
                // The counters and the resume point commit with the rows they count.
                importRow.rows += records
                importRow.created += fresh.count
                importRow.updated += changed.count
                importRow.duplicates += duplicates
                importRow.rejected += records - fresh.count - changed.count - duplicates
                importRow.processedLine = lastLine
                importRow.leaseUntil = now.addingTimeInterval(CoreDomain.importLease)
                try await ImportStore.save(importRow, on: tx)
            }
        }
    }

    /// Marks the import completed, drops its stored file, and announces it.
    func complete() async throws {
        try await finish(.completed, error: nil, event: Rahat_Core_V1_ImportFinished.completed)
        domain.logger.info(
            "import completed",
            metadata: [
                "import_id": "\(row.id?.lowercasedString ?? "")", "rows": "\(row.rows)", "created": "\(row.created)",
                "duplicates": "\(row.duplicates)", "rejected": "\(row.rejected)",
            ])
    }

    /// Marks the import failed with a reason its creator can act on; rows already committed stay.
    func fail(_ reason: String) async throws {
        try await finish(.failed, error: reason, event: Rahat_Core_V1_ImportFinished.failed)
        domain.logger.notice(
            "import failed", metadata: ["import_id": "\(row.id?.lowercasedString ?? "")", "reason": "\(reason)"])
    }

    private func finish(_ status: ImportStatus, error: String?, event: String) async throws {
        let now = domain.now()
        let importRow = row
        let domain = domain
        let claim = claim
        try await domain.database.transaction { tx in
            try await domain.holdImport(claim, on: tx)
            importRow.status = status.rawValue
            importRow.error = error
            importRow.finishedAt = now
            importRow.leaseUntil = nil
            importRow.claimToken = nil
            try await ImportStore.save(importRow, on: tx)
            try await ImportStore.deleteChunks(of: try importRow.requireID(), on: tx)
            try await Outbox.append(CoreEvents.importFinished(event, importRow, at: now), on: tx)
        }
    }
}

/// Ids collected inside a transaction closure, read after it.
private final class UpdatedBeneficiaries: Sendable {
    private let storage = Mutex<(ids: [UUID], phoneChanges: [PhoneChangeNotice])>(([], []))

    func append(_ id: UUID) { storage.withLock { $0.ids.append(id) } }
    func append(_ notice: PhoneChangeNotice) { storage.withLock { $0.phoneChanges.append(notice) } }
    var ids: [UUID] { storage.withLock { $0.ids } }
    /// Old numbers to tell once the batch has committed.
    var phoneChanges: [PhoneChangeNotice] { storage.withLock { $0.phoneChanges } }
}
