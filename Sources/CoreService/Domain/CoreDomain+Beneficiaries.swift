import CoreAPI
import FluentKit
import Foundation
import Messaging
import Persistence
import ServerKit
import SharedModels
import SwiftProtobuf

/// What every reader of a beneficiary may see: nothing that names the person.
struct BeneficiaryProfile: Codable, Sendable, Equatable {
    var gender: String
    var bankedStatus: String
    var internetStatus: String
    var phoneStatus: String
    var walletAddress: String?
    var verificationStatus: String
    var verificationReason: String?
    var createdAt: Date
    var updatedAt: Date
    var archivedAt: Date?
    /// When the phone last changed on this record; redemption waits a while after it.
    var phoneChangedAt: Date?
}

/// A beneficiary's details that are personal data beside the sealed identity: a birth date, a
/// place and coordinates name a person as surely as a name does, so they go only to callers who
/// may read personal data, as do the agency's own fields.
struct BeneficiaryDetails: Codable, Sendable, Equatable {
    var birthDate: String?
    var location: String?
    var latitude: Double?
    var longitude: Double?
    /// Agency-defined fields, as a JSON object.
    var extrasJSON: String
}

/// A beneficiary as the rest of the system sees it; `pii` and `details` only for callers allowed
/// to see personal data. The profile's fields read as the beneficiary's own (`info.gender`).
@dynamicMemberLookup
struct BeneficiaryInfo: Sendable, Equatable {
    struct PII: Sendable, Equatable {
        var name: String
        var phone: String?
        var email: String?
        var nationalID: String?
    }

    var id: UUID
    var pii: PII?
    var profile: BeneficiaryProfile
    var details: BeneficiaryDetails?

    subscript<Value>(dynamicMember field: KeyPath<BeneficiaryProfile, Value>) -> Value {
        profile[keyPath: field]
    }
}

/// A beneficiary's fields as received; for updates, only the named fields apply.
struct BeneficiaryInput: Sendable {
    var name: String?
    var phone: String?
    var email: String?
    var nationalID: String?
    var gender: String?
    var birthDate: String?
    var location: String?
    var latitude: Double?
    var longitude: Double?
    var bankedStatus: String?
    var internetStatus: String?
    var phoneStatus: String?
    var walletAddress: String?
    var extrasJSON: String?
    var defaultCountry: String?
}

/// List filters; lookups are exact matches.
struct BeneficiaryFilter: Sendable {
    var gender: String?
    var verificationStatus: String?
    var bankedStatus: String?
    var internetStatus: String?
    var phoneStatus: String?
    var createdFrom: Date?
    var createdTo: Date?
    var phone: String?
    var nationalID: String?
    var walletAddress: String?
    var defaultCountry: String?
    var projectID: String?
    var groupID: String?
    /// Words of the name, all of which must be in it (whole words, in any order).
    var name: String?
}

/// A checked filter with its ids parsed and its exact lookups turned into blind indexes.
struct ResolvedBeneficiaryFilter: Sendable {
    var filter: BeneficiaryFilter
    var projectID: UUID?
    var groupID: UUID?
    var phoneIndex: String?
    var nationalIDIndex: String?
    /// The name's words as blind indexes; every one must match.
    var nameWordIndexes: [String] = []

    /// No criterion at all: it would match every registered beneficiary.
    var isEmpty: Bool {
        let f = filter
        return [
            f.gender, f.verificationStatus, f.bankedStatus, f.internetStatus, f.phoneStatus, f.phone, f.nationalID,
            f.walletAddress, f.projectID, f.groupID, f.name,
        ].allSatisfy { $0 == nil } && f.createdFrom == nil
            && f.createdTo == nil
    }
}

/// A beneficiary's gender, as recorded.
enum Gender: String, Sendable, CaseIterable {
    case male, female, other, unknown
}

/// Whether a beneficiary holds a bank account.
enum BankedStatus: String, Sendable, CaseIterable {
    case unknown, unbanked, banked
    case underBanked = "under_banked"
}

/// How a beneficiary reaches the internet, if at all.
enum InternetStatus: String, Sendable, CaseIterable {
    case unknown
    case noInternet = "no_internet"
    case homeInternet = "home_internet"
    case mobileInternet = "mobile_internet"
}

/// What phone a beneficiary has: a feature phone receives redemption codes as well as any.
enum PhoneStatus: String, Sendable, CaseIterable {
    case unknown
    case noPhone = "no_phone"
    case featurePhone = "feature_phone"
    case smartPhone = "smart_phone"
}

/// Where a beneficiary's verification stands; a check run has statuses of its own
/// (``VerificationStatus``).
enum BeneficiaryVerification: String, Sendable, CaseIterable {
    case unverified, pending, verified, rejected
    case needsReview = "needs_review"
}

/// The closed vocabularies of a beneficiary (docs/domain.md, "core"), as the stored and wire
/// values that validation accepts.
enum BeneficiaryVocabulary {
    static let gender = values(of: Gender.self)
    static let banked = values(of: BankedStatus.self)
    static let internet = values(of: InternetStatus.self)
    static let phone = values(of: PhoneStatus.self)
    static let verification = values(of: BeneficiaryVerification.self)

    private static func values<Vocabulary: CaseIterable & RawRepresentable<String>>(
        of _: Vocabulary.Type
    ) -> Set<String> {
        Set(Vocabulary.allCases.map(\.rawValue))
    }
}

extension CoreDomain {
    static let maxBatch = 1000

    // MARK: Create

    func createBeneficiaries(
        _ inputs: [BeneficiaryInput], by caller: Principal, batchField: String?
    ) async throws
        -> [BeneficiaryInfo]
    {
        try caller.require(Permission(.beneficiary, .create))
        if inputs.isEmpty || inputs.count > Self.maxBatch {
            throw CoreError.invalidInput([
                FieldViolation(field: batchField ?? "beneficiaries", reason: "must hold 1 to \(Self.maxBatch) items")
            ])
        }
        let now = self.now()
        var rows: [BeneficiaryRow] = []
        var violations: [FieldViolation] = []
        var seenPhones: [String: Int] = [:]
        var seenNationalIDs: [String: Int] = [:]
        var seenWallets: [String: Int] = [:]
        for (index, input) in inputs.enumerated() {
            let prefix = batchField.map { "\($0)[\(index)]." } ?? ""
            let row = BeneficiaryRow()
            row.id = UUID.v7(at: now)
            var itemViolations: [FieldViolation] = []
            try apply(input, fields: nil, to: row, violations: &itemViolations)
            if let phone = row.phoneIndex {
                if let first = seenPhones[phone] {
                    itemViolations.append(
                        FieldViolation(field: "phone", reason: "repeats item \(first) of this request"))
                } else {
                    seenPhones[phone] = index
                }
            }
            if let nationalID = row.nationalIDIndex {
                if let first = seenNationalIDs[nationalID] {
                    itemViolations.append(
                        FieldViolation(field: "nationalId", reason: "repeats item \(first) of this request"))
                } else {
                    seenNationalIDs[nationalID] = index
                }
            }
            if let wallet = row.walletAddress {
                if let first = seenWallets[wallet] {
                    itemViolations.append(
                        FieldViolation(field: "walletAddress", reason: "repeats item \(first) of this request"))
                } else {
                    seenWallets[wallet] = index
                }
            }
            row.verificationStatus = BeneficiaryVerification.unverified.rawValue
            row.createdBy = caller.userID
            row.createdAt = now
            row.updatedAt = now
            violations += itemViolations.map { FieldViolation(field: prefix + $0.field, reason: $0.reason) }
            rows.append(row)
        }
        guard violations.isEmpty else { throw CoreError.invalidInput(violations) }
        let newRows = rows
        @Sendable func duplicateError(_ duplicates: [(Int, String)]) -> CoreError {
            CoreError.duplicate(
                duplicates.map { index, field in
                    FieldViolation(
                        field: (batchField.map { "\($0)[\(index)]." } ?? "") + field,
                        reason: "is already registered to another beneficiary"
                    )
                })
        }
        do {
            try await database.transaction { tx in
                let duplicates = try await existingDuplicates(of: newRows, on: tx)
                if !duplicates.isEmpty { throw duplicateError(duplicates) }
                let checks = try await queueVerifications(of: newRows, by: caller.userID, at: now, on: tx)
                // One multi-row INSERT for the whole batch, not a statement per beneficiary.
                try await BeneficiaryStore.insert(newRows, on: tx)
                try await Outbox.append(
                    try newRows.map {
                        try CoreEvents.beneficiaryChanged(
                            Rahat_Core_V1_BeneficiaryChanged.created, $0, at: now, changed: [])
                    }
                        + checks,
                    on: tx)
            }
        } catch let error as CoreError {
            throw error
        } catch {
            // A concurrent request registered the same wallet address first and won its unique
            // index: answer as if it had committed before this one looked.
            let duplicates = try await existingDuplicates(of: newRows, on: db)
            if !duplicates.isEmpty { throw duplicateError(duplicates) }
            throw error
        }
        let canSeePII = caller.permissions.allows(Permission(.beneficiaryPII, .read))
        return try rows.map { try info($0, withPII: canSeePII) }
    }

    /// Which rows collide with another beneficiary — a live one by phone or national ID, any one
    /// by wallet address (its unique index covers archived rows) — as (row index, field).
    private func existingDuplicates(of rows: [BeneficiaryRow], on db: any Database) async throws -> [(Int, String)] {
        let live = try await BeneficiaryStore.liveBeneficiaries(
            phones: rows.compactMap(\.phoneIndex), nationalIDs: rows.compactMap(\.nationalIDIndex), on: db)
        let wallets = try await BeneficiaryStore.walletOwners(rows.compactMap(\.walletAddress), on: db)
        var duplicates: [(Int, String)] = []
        for (index, row) in rows.enumerated() {
            if let phone = row.phoneIndex, let other = live.byPhone[phone], other.id != row.id {
                duplicates.append((index, "phone"))
            }
            if let nationalID = row.nationalIDIndex, let other = live.byNationalID[nationalID], other.id != row.id {
                duplicates.append((index, "nationalId"))
            }
            if let wallet = row.walletAddress, let owner = wallets[wallet], owner != row.id {
                duplicates.append((index, "walletAddress"))
            }
        }
        return duplicates
    }

    // MARK: Read

    func getBeneficiary(_ id: String, by caller: Principal) async throws -> BeneficiaryInfo {
        let beneficiaryID = try parseID(id)
        guard caller.permissions.allowsAnywhere(.beneficiary, .read) else {
            throw CoreError.permissionDenied("This action needs the permission 'beneficiary:read'.")
        }
        // Someone outside the caller's projects is answered as unknown: the id confirms nothing.
        guard try await allows(caller, .beneficiary, .read, beneficiary: beneficiaryID) else {
            throw CoreError.beneficiaryNotFound
        }
        let withPII = try await allows(caller, .beneficiaryPII, .read, beneficiary: beneficiaryID)
        let view: BeneficiaryCache.View = withPII ? .pii : .basic
        let record = try await beneficiaryCache.record(beneficiaryID, view: view) { [db] in
            guard let row = try await BeneficiaryStore.find(beneficiaryID, on: db), row.archivedAt == nil else {
                return nil
            }
            return try BeneficiaryRecord(row, view: view)
        }
        guard let record else { throw CoreError.beneficiaryNotFound }
        return try info(record, withPII: withPII)
    }

    func listBeneficiaries(
        limit: Int, cursor: String?, filter: BeneficiaryFilter, by caller: Principal
    ) async throws
        -> ([BeneficiaryInfo], String?)
    {
        // Page and filter problems are reported together.
        var violations: [FieldViolation] = []
        let resolved = resolve(filter, field: { $0 }, into: &violations)
        // A grant scoped to a project reaches that project's beneficiaries only.
        let scope = resolved.projectID?.lowercasedString
        try caller.require(Permission(.beneficiary, .read, projectID: scope))
        // Finding someone by name, phone or national ID reads personal data, whatever comes back.
        if filter.phone != nil || filter.nationalID != nil || filter.name != nil {
            try caller.require(Permission(.beneficiaryPII, .read, projectID: scope))
        }
        var page = PageRequest<UUID>(limit: limit, after: nil)
        switch PageRequest<UUID>.validate(limit: limit, cursor: cursor) {
        case .success(let valid): page = valid
        case .failure(let error): violations += error.violations
        }
        guard violations.isEmpty else { throw CoreError.invalidInput(violations) }
        let after = page.after
        let matched = try await database.replicaRead { db in
            if let projectID = resolved.projectID, try await ProjectStore.find(projectID, on: db) == nil {
                throw CoreError.projectNotFound
            }
            return try await BeneficiaryStore.matching(resolved, after: after, limit: limit + 1, on: db)
        }
        let (rows, next) = try page.page(of: matched) { try $0.requireID() }
        let canSeePII = caller.permissions.allows(Permission(.beneficiaryPII, .read, projectID: scope))
        return (try rows.map { try info($0, withPII: canSeePII) }, next)
    }

    /// Checks a filter, naming each bad criterion through `field`, and resolves its ids and its
    /// exact lookups (phone, national ID) to what the table stores.
    func resolve(
        _ filter: BeneficiaryFilter, field: (String) -> String, into violations: inout [FieldViolation]
    ) -> ResolvedBeneficiaryFilter {
        var resolved = ResolvedBeneficiaryFilter(filter: filter)
        resolved.projectID = parseID(filter.projectID, field: field("projectId"), into: &violations)
        resolved.groupID = parseID(filter.groupID, field: field("groupId"), into: &violations)
        for (name, value, allowed) in [
            ("gender", filter.gender, BeneficiaryVocabulary.gender),
            ("verificationStatus", filter.verificationStatus, BeneficiaryVocabulary.verification),
            ("bankedStatus", filter.bankedStatus, BeneficiaryVocabulary.banked),
            ("internetStatus", filter.internetStatus, BeneficiaryVocabulary.internet),
            ("phoneStatus", filter.phoneStatus, BeneficiaryVocabulary.phone),
        ] {
            if let value, !allowed.contains(value) {
                violations.append(
                    FieldViolation(
                        field: field(name), reason: "must be one of \(allowed.sorted().joined(separator: ", "))"))
            }
        }
        if let from = filter.createdFrom, let to = filter.createdTo, from >= to {
            violations.append(FieldViolation(field: field("createdTo"), reason: "must be after createdFrom"))
        }
        if let phone = filter.phone {
            switch PhoneNumber.parse(phone, defaultCountry: filter.defaultCountry) {
            case .success(let number): resolved.phoneIndex = vault.blindIndex(number.e164, purpose: "phone")
            case .failure(let problem):
                violations.append(FieldViolation(field: field("phone"), reason: problem.description))
            }
        }
        if let nationalID = filter.nationalID {
            resolved.nationalIDIndex = vault.blindIndex(Self.normalizedNationalID(nationalID), purpose: "national_id")
        }
        if let name = filter.name {
            let words = Set(Self.nameWords(name))
            if words.isEmpty {
                violations.append(FieldViolation(field: field("name"), reason: "must contain a letter or a digit"))
            } else if words.count > Self.maxNameSearchWords {
                violations.append(
                    FieldViolation(field: field("name"), reason: "must have at most \(Self.maxNameSearchWords) words"))
            } else {
                resolved.nameWordIndexes = words.map { vault.blindIndex($0, purpose: "name_word") }.sorted()
            }
        }
        return resolved
    }

    // MARK: Change

    func updateBeneficiary(
        _ id: String, input: BeneficiaryInput, fields: Set<String>, by caller: Principal
    ) async throws
        -> BeneficiaryInfo
    {
        let beneficiaryID = try parseID(id)
        try await requireChange(.update, of: beneficiaryID, by: caller)
        let piiFields: Set<String> = ["name", "phone", "email", "nationalId"]
        if !fields.isDisjoint(with: piiFields),
            try await !allows(caller, .beneficiaryPII, .read, beneficiary: beneficiaryID)
        {
            throw CoreError.permissionDenied("This action needs the permission 'beneficiary_pii:read'.")
        }
        let unknown = fields.subtracting(Self.updatableFields)
        if fields.isEmpty || !unknown.isEmpty {
            throw CoreError.invalidInput([
                FieldViolation(
                    field: "fields",
                    reason: unknown.isEmpty
                        ? "must name at least one field" : "unknown: \(unknown.sorted().joined(separator: ", "))"
                )
            ])
        }
        let row = try await findBeneficiary(beneficiaryID)
        let checked = try verificationSnapshot(row)
        let phoneBefore = PhoneOnRecord(row)
        var violations: [FieldViolation] = []
        try apply(input, fields: fields, to: row, violations: &violations)
        guard violations.isEmpty else { throw CoreError.invalidInput(violations) }
        let recheck = try verificationSnapshot(row) != checked
        let now = self.now()
        row.updatedAt = now
        let notice = try markPhoneChange(of: row, before: phoneBefore, at: now)
        try await changeBeneficiaries([beneficiaryID]) { tx in
            let duplicates = try await existingDuplicates(of: [row], on: tx).filter { _, field in
                fields.contains(field)
            }
            if !duplicates.isEmpty {
                throw CoreError.duplicate(
                    duplicates.map {
                        FieldViolation(field: $0.1, reason: "is already registered to another beneficiary")
                    })
            }
            let checks = recheck ? try await queueVerifications(of: [row], by: caller.userID, at: now, on: tx) : []
            try await BeneficiaryStore.save(row, on: tx)
            return [
                try CoreEvents.beneficiaryChanged(
                    Rahat_Core_V1_BeneficiaryChanged.updated, row, at: now, changed: fields.sorted())
            ] + checks
        }
        await tellOldNumbers(notice.map { [$0] } ?? [], at: now)
        return try info(row, withPII: try await allows(caller, .beneficiaryPII, .read, beneficiary: beneficiaryID))
    }

    func archiveBeneficiary(_ id: String, by caller: Principal) async throws -> BeneficiaryInfo {
        let beneficiaryID = try parseID(id)
        try await requireChange(.delete, of: beneficiaryID, by: caller)
        let row = try await findBeneficiary(beneficiaryID)
        let now = self.now()
        row.archivedAt = now
        row.updatedAt = now
        try await changeBeneficiaries([beneficiaryID]) { tx in
            try await BeneficiaryStore.save(row, on: tx)
            return [
                try CoreEvents.beneficiaryChanged(Rahat_Core_V1_BeneficiaryChanged.archived, row, at: now, changed: [])
            ]
        }
        return try info(row, withPII: try await allows(caller, .beneficiaryPII, .read, beneficiary: beneficiaryID))
    }

    /// Refuses a change the caller may not make to this person: a grant scoped to a project
    /// reaches the people enrolled in it. Whoever may make it nowhere, or may see the person, is
    /// told what is missing (403); to anyone else the person is not there (404), as for a read.
    private func requireChange(_ action: Permission.Action, of id: UUID, by caller: Principal) async throws {
        let needed = "This action needs the permission 'beneficiary:\(action.rawValue)'."
        guard caller.permissions.allowsAnywhere(.beneficiary, action) else { throw CoreError.permissionDenied(needed) }
        guard try await allows(caller, .beneficiary, action, beneficiary: id) else {
            guard try await allows(caller, .beneficiary, .read, beneficiary: id) else {
                throw CoreError.beneficiaryNotFound
            }
            throw CoreError.permissionDenied(needed)
        }
    }

    /// The most words a search by name may ask for: each one is a further lookup.
    static let maxNameSearchWords = 8

    static let updatableFields: Set<String> = [
        "name", "phone", "email", "nationalId", "gender", "birthDate", "location", "latitude", "longitude",
        "bankedStatus", "internetStatus", "phoneStatus", "walletAddress", "extras",
    ]

    /// Commits a change to existing beneficiaries together with the events `body` returns, then
    /// drops their cached reads. Every single-record change goes through here (import batches do
    /// the same for the people they update), so the outbox event and the invalidation cannot come
    /// apart. Invalidation follows a failed
    /// commit too: a connection lost during COMMIT may still have committed.
    func changeBeneficiaries<T: Sendable>(
        _ ids: [UUID], _ body: @escaping @Sendable (any Database) async throws -> ([OutboxEvent], T)
    ) async throws -> T {
        do {
            let result = try await database.transaction { tx in
                let (events, result) = try await body(tx)
                try await Outbox.append(events, on: tx)
                return result
            }
            await beneficiaryCache.invalidate(ids)
            return result
        } catch {
            await beneficiaryCache.invalidate(ids)
            throw error
        }
    }

    /// ``changeBeneficiaries(_:_:)`` for a change that returns nothing but its events.
    func changeBeneficiaries(
        _ ids: [UUID], _ body: @escaping @Sendable (any Database) async throws -> [OutboxEvent]
    ) async throws {
        try await changeBeneficiaries(ids) { tx in (try await body(tx), ()) }
    }

    // MARK: Helpers

    private func findBeneficiary(_ id: UUID) async throws -> BeneficiaryRow {
        guard let row = try await BeneficiaryStore.find(id, on: db), row.archivedAt == nil else {
            throw CoreError.beneficiaryNotFound
        }
        return row
    }

    /// Validates `input` and writes it onto `row`: every field when new, else those in `fields`.
    func apply(
        _ input: BeneficiaryInput,
        fields: Set<String>?,
        to row: BeneficiaryRow,
        violations: inout [FieldViolation]
    ) throws {
        func wants(_ field: String) -> Bool { fields?.contains(field) ?? true }
        let id = row.id?.lowercasedString ?? ""
        if wants("name") {
            let name = (input.name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if name.isEmpty {
                violations.append(FieldViolation(field: "name", reason: "is required"))
            } else if name.count > 200 {
                violations.append(FieldViolation(field: "name", reason: "must be at most 200 characters"))
            } else {
                row.nameSealed = try vault.seal(name, context: "beneficiary:\(id):name")
                row.nameWordIndexes = nameWordIndexes(name)
            }
        }
        if wants("phone") {
            row.phoneSealed = nil
            row.phoneIndex = nil
            if let phone = input.phone, !phone.trimmingCharacters(in: .whitespaces).isEmpty {
                switch PhoneNumber.parse(phone, defaultCountry: input.defaultCountry) {
                case .success(let number):
                    row.phoneSealed = try vault.seal(number.e164, context: "beneficiary:\(id):phone")
                    row.phoneIndex = vault.blindIndex(number.e164, purpose: "phone")
                case .failure(let problem):
                    violations.append(FieldViolation(field: "phone", reason: problem.description))
                }
            }
        }
        if wants("email") {
            row.emailSealed = nil
            if let email = input.email?.trimmingCharacters(in: .whitespaces).lowercased(), !email.isEmpty {
                if EmailAddress.isPlausible(email) {
                    row.emailSealed = try vault.seal(email, context: "beneficiary:\(id):email")
                } else {
                    violations.append(FieldViolation(field: "email", reason: "is not a valid email address"))
                }
            }
        }
        if wants("nationalId") {
            row.nationalIDSealed = nil
            row.nationalIDIndex = nil
            if let nationalID = input.nationalID?.trimmingCharacters(in: .whitespaces), !nationalID.isEmpty {
                let normalized = Self.normalizedNationalID(nationalID)
                if (3...40).contains(normalized.count),
                    normalized.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
                {
                    row.nationalIDSealed = try vault.seal(nationalID, context: "beneficiary:\(id):national_id")
                    row.nationalIDIndex = vault.blindIndex(normalized, purpose: "national_id")
                } else {
                    violations.append(
                        FieldViolation(
                            field: "nationalId",
                            reason: "must be 3–40 letters or digits (spaces, dashes and slashes allowed)")
                    )
                }
            }
        }
        func vocabulary(_ field: String, _ value: String?, _ allowed: Set<String>, assign: (String) -> Void) {
            guard wants(field) else { return }
            let chosen = value ?? "unknown"
            if allowed.contains(chosen) {
                assign(chosen)
            } else {
                violations.append(
                    FieldViolation(field: field, reason: "must be one of \(allowed.sorted().joined(separator: ", "))"))
            }
        }
        vocabulary("gender", input.gender, BeneficiaryVocabulary.gender) { row.gender = $0 }
        vocabulary("bankedStatus", input.bankedStatus, BeneficiaryVocabulary.banked) { row.bankedStatus = $0 }
        vocabulary("internetStatus", input.internetStatus, BeneficiaryVocabulary.internet) { row.internetStatus = $0 }
        vocabulary("phoneStatus", input.phoneStatus, BeneficiaryVocabulary.phone) { row.phoneStatus = $0 }
        if wants("birthDate") {
            row.birthDate = nil
            if let text = input.birthDate, !text.isEmpty {
                if Self.isValidBirthDate(text, today: now()) {
                    row.birthDate = text
                } else {
                    violations.append(
                        FieldViolation(field: "birthDate", reason: "must be a past date written YYYY-MM-DD"))
                }
            }
        }
        if wants("location") {
            row.location = input.location.flatMap { $0.isEmpty ? nil : $0 }
            if let location = row.location, location.count > 200 {
                violations.append(FieldViolation(field: "location", reason: "must be at most 200 characters"))
            }
        }
        if wants("latitude") {
            row.latitude = input.latitude
            if let latitude = input.latitude, !(-90...90).contains(latitude) {
                violations.append(FieldViolation(field: "latitude", reason: "must be between -90 and 90"))
            }
        }
        if wants("longitude") {
            row.longitude = input.longitude
            if let longitude = input.longitude, !(-180...180).contains(longitude) {
                violations.append(FieldViolation(field: "longitude", reason: "must be between -180 and 180"))
            }
        }
        if wants("walletAddress") {
            row.walletAddress = input.walletAddress.flatMap { $0.isEmpty ? nil : $0 }
            if let wallet = row.walletAddress,
                !(8...100).contains(wallet.count)
                    || !wallet.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ":_-".contains($0)) })
            {
                violations.append(
                    FieldViolation(field: "walletAddress", reason: "must be 8–100 letters, digits, ':', '_' or '-'"))
            }
        }
        if wants("name") || wants("birthDate") {
            let name =
                wants("name")
                ? (input.name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                : try vault.open(row.nameSealed, context: "beneficiary:\(id):name")
            row.identityIndex = row.birthDate.map { identityIndex(name: name, birthDate: $0) }
        }
        if wants("extras") {
            let text = input.extrasJSON ?? "{}"
            if text.utf8.count <= Self.maxSettingsBytes,
                let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)), object is [String: Any]
            {
                row.extras = text
            } else {
                violations.append(FieldViolation(field: "extras", reason: "must be a JSON object of at most 16 KiB"))
            }
        }
    }

    /// A name's words, case-, accent- and width-folded: what finding by name and the duplicate
    /// check compare, so that "SUNITA  Rāi" is "sunita rai". Punctuation separates words.
    static func nameWords(_ name: String) -> [String] {
        name.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
            .lowercased()
            .split { !($0.isLetter || $0.isNumber) }
            .map(String.init)
    }

    /// The blind indexes of a name's distinct words, as `beneficiary_name_words` stores them. A
    /// name without a letter or digit gets the index of the empty word, which no search asks
    /// for, so that it counts as indexed and is not read again by every sweep.
    func nameWordIndexes(_ name: String) -> [String] {
        let words = Set(Self.nameWords(name))
        return (words.isEmpty ? [""] : Array(words)).map { vault.blindIndex($0, purpose: "name_word") }.sorted()
    }

    static func normalizedNationalID(_ text: String) -> String {
        text.uppercased().filter { !" -/".contains($0) }
    }

    static func isValidBirthDate(_ text: String, today: Date) -> Bool {
        let parts = text.split(separator: "-")
        guard text.count == 10, parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]),
            let day = Int(parts[2]),
            year >= 1900
        else { return false }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        guard let date = calendar.date(from: DateComponents(year: year, month: month, day: day)),
            calendar.component(.day, from: date) == day, calendar.component(.month, from: date) == month
        else { return false }
        return date <= today
    }

    private func info(_ row: BeneficiaryRow, withPII: Bool) throws -> BeneficiaryInfo {
        try info(BeneficiaryRecord(row, view: withPII ? .pii : .basic), withPII: withPII)
    }

    private func info(_ row: BeneficiaryRecord, withPII: Bool) throws -> BeneficiaryInfo {
        let id = row.id
        var pii: BeneficiaryInfo.PII?
        if withPII, let sealed = row.sealed {
            let context = "beneficiary:\(id.lowercasedString)"
            pii = BeneficiaryInfo.PII(
                name: try vault.open(sealed.name, context: "\(context):name"),
                phone: try sealed.phone.map { try vault.open($0, context: "\(context):phone") },
                email: try sealed.email.map { try vault.open($0, context: "\(context):email") },
                nationalID: try sealed.nationalID.map { try vault.open($0, context: "\(context):national_id") }
            )
        }
        return BeneficiaryInfo(id: id, pii: pii, profile: row.profile, details: withPII ? row.details : nil)
    }
}

extension CoreDomain {
    /// Stores the words of every name without any, a few hundred beneficiaries per transaction;
    /// answers how many names it indexed. A name that does not open (its key is gone from the
    /// ring, or it is damaged) is logged by id and left, so that it holds up no other. Only one
    /// process sweeps at a time: one that finds another at it leaves the pass to that one.
    @discardableResult
    func indexNameWords(batch: Int = 500) async throws -> Int {
        var after: UUID?
        var total = 0
        while true {
            let start = after
            let pass: (last: UUID?, indexed: Int)? = try await database.transaction { tx in
                guard try await AdvisoryLock.tryHoldForTransaction("rahat.core.name-words", on: tx) else {
                    return nil
                }
                let (names, last) = try await BeneficiaryStore.unindexedNames(after: start, limit: batch, on: tx)
                var words: [(UUID, [String])] = []
                for name in names {
                    let context = "beneficiary:\(name.id.lowercasedString):name"
                    do {
                        words.append((name.id, nameWordIndexes(try vault.open(name.nameSealed, context: context))))
                    } catch {
                        logger.error(
                            "a beneficiary's name does not open, so it cannot be found by name",
                            metadata: [
                                "beneficiary": "\(name.id.lowercasedString)", "error": "\(String(reflecting: error))",
                            ])
                    }
                }
                try await BeneficiaryStore.insertNameWords(words, on: tx)
                return (last, words.count)
            }
            guard let pass else { return total }
            total += pass.indexed
            guard let last = pass.last else { return total }
            after = last
        }
    }
}
