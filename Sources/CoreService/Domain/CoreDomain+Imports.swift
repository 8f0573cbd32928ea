import Crypto
import FluentKit
import Foundation
import Messaging
import Persistence
import ServerKit
import SharedModels

/// The kinds of file an import reads.
enum ImportFormat: String, Sendable {
    case csv
    case jsonLines = "jsonl"
}

/// What an import does with a row whose phone or national ID is already registered.
enum DuplicatePolicy: String, Sendable {
    case reject, skip, update
}

/// Where an import is in its life.
enum ImportStatus: String, Sendable {
    /// Still receiving its file; invisible to the runner.
    case uploading
    case queued, running, completed, failed
}

/// An import's options, as received.
struct ImportOptionsInput: Sendable {
    var format: ImportFormat
    var projectID: String?
    var groupID: String?
    var onDuplicate: DuplicatePolicy
    var defaultCountry: String?
    var fileName: String?
}

/// An import as the rest of the system sees it.
struct ImportInfo: Sendable, Equatable {
    var id: UUID
    var format: ImportFormat
    var status: ImportStatus
    var projectID: UUID?
    var groupID: UUID?
    var onDuplicate: DuplicatePolicy
    var defaultCountry: String?
    var fileName: String?
    var sha256: String
    var bytes: Int
    var rows: Int
    var created: Int
    var updated: Int
    var duplicates: Int
    var rejected: Int
    var error: String?
    var createdBy: UUID
    var createdAt: Date
    var startedAt: Date?
    var finishedAt: Date?
}

/// A file being received: stored a chunk at a time, hashed as it goes.
struct ImportUpload: Sendable {
    let domain: CoreDomain
    let importID: UUID
    private var buffer: [UInt8] = []
    private var seq = 0
    private var total = 0
    private var hasher = SHA256()

    init(domain: CoreDomain, importID: UUID) {
        self.domain = domain
        self.importID = importID
    }

    /// Adds bytes; stores a chunk whenever a megabyte has gathered.
    mutating func append(_ bytes: Data) async throws {
        total += bytes.count
        guard total <= domain.importMaxBytes else { throw CoreError.importTooLarge(limit: domain.importMaxBytes) }
        hasher.update(data: bytes)
        buffer.append(contentsOf: bytes)
        if buffer.count >= CoreDomain.importChunkBytes { try await flush() }
    }

    private mutating func flush() async throws {
        guard !buffer.isEmpty else { return }
        try await ImportStore.insertChunk(Data(buffer), seq: seq, of: importID, on: domain.db)
        seq += 1
        buffer.removeAll(keepingCapacity: true)
    }

    /// Stores the rest and queues the import; refuses an empty file and a file already being imported.
    mutating func finish() async throws -> ImportInfo {
        try await flush()
        guard total > 0 else {
            throw CoreError.invalidInput([FieldViolation(field: "file", reason: "is empty")])
        }
        let digest = hasher.finalize().hexString
        let id = importID
        let size = total
        let row: ImportRow
        do {
            row = try await domain.database.transaction { tx in
                if let busy = try await ImportStore.activeImport(sha256: digest, on: tx), let busyID = busy.id {
                    throw CoreError.importInProgress(busyID.lowercasedString)
                }
                guard let row = try await ImportStore.find(id, on: tx) else { throw CoreError.importNotFound }
                row.sha256 = digest
                row.bytes = size
                row.status = ImportStatus.queued.rawValue
                try await ImportStore.save(row, on: tx)
                try await Outbox.append(.jobRequested(try CoreDomain.importJobRequest(row)), on: tx)
                return row
            }
        } catch let error as CoreError {
            throw error
        } catch {
            // A concurrent upload of the same file won the unique index on active imports.
            if let busy = try await ImportStore.activeImport(sha256: digest, on: domain.db), let busyID = busy.id {
                throw CoreError.importInProgress(busyID.lowercasedString)
            }
            throw error
        }
        return try CoreDomain.importInfo(row)
    }

    /// Removes everything stored for an upload that did not complete.
    func abandon() async {
        do {
            try await ImportStore.deleteUpload(importID, on: domain.db)
        } catch {
            domain.logger.warning(
                "could not remove an abandoned upload",
                metadata: ["import_id": "\(importID.lowercasedString)", "error": "\(error)"])
        }
    }
}

extension CoreDomain {
    static let importChunkBytes = 1_048_576

    /// Columns an import file may have (CSV headers, JSON keys), matched without regard to case,
    /// spaces, dashes or underscores; `name` is required.
    static let importColumns: [String: String] = [
        "name": "name", "phone": "phone", "email": "email", "nationalid": "nationalId", "gender": "gender",
        "birthdate": "birthDate", "location": "location", "latitude": "latitude", "longitude": "longitude",
        "bankedstatus": "bankedStatus", "internetstatus": "internetStatus", "phonestatus": "phoneStatus",
        "walletaddress": "walletAddress", "extras": "extras",
    ]

    /// The canonical column a CSV header or JSON key names, ignoring case, spaces, `_` and `-`.
    static func importColumn(_ name: String) -> String? {
        importColumns[name.lowercased().filter { $0.isLetter || $0.isNumber }]
    }

    /// Checks the caller and the options, and opens an upload.
    func beginImport(_ options: ImportOptionsInput, by caller: Principal) async throws -> ImportUpload {
        try caller.require(Permission(.beneficiary, .create))
        var violations: [FieldViolation] = []
        let projectID = parseID(options.projectID, field: "projectId", into: &violations)
        let groupID = parseID(options.groupID, field: "groupId", into: &violations)
        let country = options.defaultCountry.map { Self.validCountry($0, into: &violations) }
        if let name = options.fileName, name.count > 255 {
            violations.append(FieldViolation(field: "fileName", reason: "must be at most 255 characters"))
        }
        guard violations.isEmpty else { throw CoreError.invalidInput(violations) }
        var projectCountry: String?
        if let projectID {
            try caller.require(Permission(.project, .update, projectID: projectID.lowercasedString))
            guard let project = try await ProjectStore.find(projectID, on: db) else { throw CoreError.projectNotFound }
            guard project.status != ProjectStatus.closed.rawValue else { throw CoreError.projectClosed }
            projectCountry = project.defaultCountry
        }
        if let groupID {
            try caller.require(Permission(.beneficiary, .update))
            _ = try await findGroup(groupID, on: db)
        }
        if options.onDuplicate == .update {
            // Updating registered people is an update of their records, personal data included.
            try caller.require(Permission(.beneficiary, .update))
            try caller.require(Permission(.beneficiaryPII, .read))
        }
        let now = self.now()
        let row = ImportRow()
        row.id = UUID.v7(at: now)
        row.format = options.format.rawValue
        row.status = ImportStatus.uploading.rawValue
        row.projectID = projectID
        row.groupID = groupID
        row.onDuplicate = options.onDuplicate.rawValue
        row.defaultCountry = country ?? projectCountry
        row.fileName = options.fileName
        row.sha256 = ""
        row.bytes = 0
        row.rows = 0
        row.created = 0
        row.updated = 0
        row.duplicates = 0
        row.rejected = 0
        row.processedLine = 0
        row.attempts = 0
        row.createdBy = caller.userID
        row.createdAt = now
        let limits = importsUnfinished
        try await database.transaction { tx in
            // Counted after the insert, under a lock on PostgreSQL (SQLite has one writer), so
            // concurrent uploads cannot each see room for themselves.
            try await ImportStore.lockImportStarts(on: tx)
            try await ImportStore.create(row, on: tx)
            // An upload still "uploading" an hour on was left by a process that stopped (the
            // purge removes it later): it holds no place, or one restart would block imports.
            let liveSince = now.addingTimeInterval(-Self.uploadHoldsPlaceFor)
            let callers = try await ImportStore.unfinishedCount(createdBy: caller.userID, liveSince: liveSince, on: tx)
            guard callers <= limits.perCaller else { throw CoreError.tooManyImports(limit: limits.perCaller) }
            let everyone = try await ImportStore.unfinishedCount(createdBy: nil, liveSince: liveSince, on: tx)
            guard everyone <= limits.total else { throw CoreError.importQueueFull(limit: limits.total) }
        }
        return ImportUpload(domain: self, importID: try row.requireID())
    }

    /// How long an upload counts against the unfinished-import limits without finishing.
    static let uploadHoldsPlaceFor: TimeInterval = 3600

    func getImport(_ id: String, by caller: Principal) async throws -> ImportInfo {
        try caller.require(Permission(.beneficiary, .read))
        return try Self.importInfo(try await findImport(try parseID(id)))
    }

    func listImports(limit: Int, cursor: String?, by caller: Principal) async throws -> ([ImportInfo], String?) {
        try caller.require(Permission(.beneficiary, .read))
        let page = try PageRequest<UUID>.validate(limit: limit, cursor: cursor).get()
        let after = page.after
        let found = try await database.replicaRead { db in
            try await ImportStore.page(after: after, limit: limit + 1, on: db)
        }
        let (rows, next) = try page.page(of: found) { try $0.requireID() }
        return (try rows.map(Self.importInfo), next)
    }

    /// The rejected rows as CSV, a few thousand lines per piece.
    func importRejects(
        _ id: String, by caller: Principal, emit: (Data) async throws -> Void
    ) async throws {
        try caller.require(Permission(.beneficiary, .read))
        let importID = try await findImport(try parseID(id)).requireID()
        try await emit(Data("line,column,reason\r\n".utf8))
        var afterLine = -1
        var afterID: UUID?
        while true {
            // Rejects are only ever added, in line order, so pages may come from either server.
            let (line, id) = (afterLine, afterID)
            let rows = try await database.replicaRead { db in
                try await ImportStore.rejects(of: importID, afterLine: line, afterID: id, limit: 2000, on: db)
            }
            guard let last = rows.last else { break }
            var text = ""
            for row in rows {
                text += "\(row.line),\(CSVField.escape(row.column)),\(CSVField.escape(row.reason))\r\n"
            }
            try await emit(Data(text.utf8))
            afterLine = last.line
            afterID = last.id
        }
    }

    func findImport(_ id: UUID) async throws -> ImportRow {
        guard let row = try await ImportStore.find(id, on: db), row.status != ImportStatus.uploading.rawValue else {
            throw CoreError.importNotFound
        }
        return row
    }

    static func importInfo(_ row: ImportRow) throws -> ImportInfo {
        ImportInfo(
            id: try row.requireID(),
            format: ImportFormat(rawValue: row.format) ?? .csv,
            status: ImportStatus(rawValue: row.status) ?? .queued,
            projectID: row.projectID,
            groupID: row.groupID,
            onDuplicate: DuplicatePolicy(rawValue: row.onDuplicate) ?? .reject,
            defaultCountry: row.defaultCountry,
            fileName: row.fileName,
            sha256: row.sha256,
            bytes: row.bytes,
            rows: row.rows,
            created: row.created,
            updated: row.updated,
            duplicates: row.duplicates,
            rejected: row.rejected,
            error: row.error,
            createdBy: row.createdBy,
            createdAt: row.createdAt,
            startedAt: row.startedAt,
            finishedAt: row.finishedAt
        )
    }
}
