import FluentKit
import Foundation
import Persistence
import SQLKit
import SharedModels

/// Beneficiaries as stored: lookups by id and by blind index, filtered pages, bulk inserts.
enum BeneficiaryStore {
    /// Values looked up per query, well under either database's bind limit.
    static let lookupChunk = 500

    /// The beneficiary `id`, archived or not, or `nil`.
    static func find(_ id: UUID, on database: any Database) async throws -> BeneficiaryRow? {
        try await BeneficiaryRow.find(id, on: database)
    }

    /// Writes a changed beneficiary back, with its name's words if the name changed.
    static func save(_ row: BeneficiaryRow, on database: any Database) async throws {
        try await row.save(on: database)
        // Writing the sealed name dropped the old name's words (a trigger does, so that no
        // writer can leave them behind); the new name's go in beside it.
        try await insertNameWords(of: [row], on: database)
    }

    /// Inserts new beneficiaries with multi-row statements, a few hundred rows each, and their
    /// names' words.
    static func insert(_ rows: [BeneficiaryRow], on database: any Database) async throws {
        var insert = BulkInsert(into: BeneficiaryRow.schema, columns: BeneficiaryRow.insertColumns)
        for row in rows { insert.append(row.insertValues) }
        try await insert.run(on: database)
        try await insertNameWords(of: rows, on: database)
    }

    // MARK: Name words

    /// One row per distinct word of each beneficiary's name, as a blind index: how a sealed
    /// name is found by its words.
    static let nameWordsTable = "beneficiary_name_words"

    private static func insertNameWords(of rows: [BeneficiaryRow], on database: any Database) async throws {
        var insert = BulkInsert(into: nameWordsTable, columns: ["beneficiary_id", "word_index"])
        for row in rows {
            guard let id = row.id, let words = row.nameWordIndexes else { continue }
            for word in words { insert.append([.uuid(id), .text(word)]) }
        }
        try await insert.run(on: database)
    }

    /// A beneficiary whose name has no words stored, with its sealed name.
    struct UnindexedName: Sendable {
        var id: UUID
        var nameSealed: String
    }

    /// Beneficiaries (archived ones included) whose names have no words stored — written before
    /// names were indexed, or renamed by a writer that does not index them — among the first
    /// `limit` in id order after `after`, and the last of those looked at (nil when there were
    /// none), for the next call. Finding them reads the two tables' id indexes only, so a pass
    /// that finds nothing visits no row: about a second for a million people. The few found
    /// are then read, and on PostgreSQL share-locked, skipping any being written (the next pass
    /// finds them), so a name cannot change between being read here and its words being stored.
    static func unindexedNames(
        after: UUID?, limit: Int, on database: any Database
    ) async throws -> (names: [UnindexedName], last: UUID?) {
        let sql = try database.sql()
        let missing = SQLQueryString(
            "NOT EXISTS (SELECT 1 FROM \(ident: nameWordsTable) w WHERE w.beneficiary_id = b.id)")
        var find = SQLQueryString("SELECT b.id FROM \(ident: BeneficiaryRow.schema) b WHERE ") + missing
        if let after { find.appendInterpolation(unsafeRaw: " AND b.id > "); find.appendInterpolation(bind: after) }
        find.appendInterpolation(unsafeRaw: " ORDER BY b.id LIMIT \(limit)")
        let ids = try await sql.raw(find).all().map { try $0.decode(column: "id", as: UUID.self) }
        guard let last = ids.last else { return ([], nil) }
        var read =
            SQLQueryString("SELECT b.id, b.name_sealed FROM \(ident: BeneficiaryRow.schema) b WHERE b.id IN ")
            + SQLQueryString("\(SQLBind.group(ids)) AND ") + missing
        read.appendInterpolation(unsafeRaw: " ORDER BY b.id")
        if sql.dialect.name == "postgresql" { read.appendInterpolation(unsafeRaw: " FOR SHARE OF b SKIP LOCKED") }
        let names = try await sql.raw(read).all().map { row in
            UnindexedName(
                id: try row.decode(column: "id", as: UUID.self),
                nameSealed: try row.decode(column: "name_sealed", as: String.self))
        }
        return (names, last)
    }

    /// Stores the words of names found by ``unindexedNames(after:limit:on:)``;
    /// words another process stored meanwhile are left as they are.
    static func insertNameWords(_ words: [(UUID, [String])], on database: any Database) async throws {
        let sql = try database.sql()
        let rows: [[any SQLExpression]] = words.flatMap { id, indexes in
            indexes.map { [SQLBind(id), SQLBind($0)] }
        }
        for chunk in rows.chunks(of: lookupChunk) {
            let insert = sql.insert(into: nameWordsTable).columns("beneficiary_id", "word_index").ignoringConflicts()
            for row in chunk { insert.values(row) }
            try await insert.run()
        }
    }

    /// The beneficiaries `ids`, archived ones included, in no particular order.
    static func rows(_ ids: [UUID], on database: any Database) async throws -> [BeneficiaryRow] {
        try await BeneficiaryRow.query(on: database).filter(\.$id ~~ ids).all()
    }

    /// Which of `ids` are live (not archived) beneficiaries.
    static func liveIDs(_ ids: [UUID], on database: any Database) async throws -> [UUID] {
        try await BeneficiaryRow.query(on: database).filter(\.$id ~~ ids).filter(\.$archivedAt == nil).all()
            .compactMap(\.id)
    }

    /// Live beneficiaries holding any of these blind indexes, keyed by each.
    static func liveBeneficiaries(
        phones: [String], nationalIDs: [String], on database: any Database
    ) async throws -> (byPhone: [String: BeneficiaryRow], byNationalID: [String: BeneficiaryRow]) {
        var byPhone: [String: BeneficiaryRow] = [:]
        var byNationalID: [String: BeneficiaryRow] = [:]
        if let sql = database as? any SQLDatabase, sql.dialect.name == "postgresql" {
            // An import batch asks for a few thousand values and finds a few: one statement with
            // two array parameters, then only the matches read whole. IN lists of 500 binds each
            // were parsed and planned afresh, four to eight times a batch.
            let matched = try await sql.raw(
                """
                SELECT id FROM \(ident: BeneficiaryRow.schema) WHERE archived_at IS NULL
                AND (phone_index = ANY(\(bind: phones)) OR national_id_index = ANY(\(bind: nationalIDs)))
                """
            ).all().map { try $0.decode(column: "id", as: UUID.self) }
            let wantedPhones = Set(phones)
            let wantedNationalIDs = Set(nationalIDs)
            for chunk in matched.chunks(of: lookupChunk) {
                for row in try await rows(Array(chunk), on: database) {
                    if let phone = row.phoneIndex, wantedPhones.contains(phone) { byPhone[phone] = row }
                    if let nationalID = row.nationalIDIndex, wantedNationalIDs.contains(nationalID) {
                        byNationalID[nationalID] = row
                    }
                }
            }
            return (byPhone, byNationalID)
        }
        for chunk in phones.chunks(of: lookupChunk) {
            for row in try await BeneficiaryRow.query(on: database).filter(\.$phoneIndex ~~ Array(chunk))
                .filter(\.$archivedAt == nil).all()
            {
                if let phone = row.phoneIndex { byPhone[phone] = row }
            }
        }
        for chunk in nationalIDs.chunks(of: lookupChunk) {
            for row in try await BeneficiaryRow.query(on: database).filter(\.$nationalIDIndex ~~ Array(chunk))
                .filter(\.$archivedAt == nil).all()
            {
                if let nationalID = row.nationalIDIndex { byNationalID[nationalID] = row }
            }
        }
        return (byPhone, byNationalID)
    }

    /// Which beneficiary (archived ones included: the unique index covers them) holds each wallet address.
    static func walletOwners(_ wallets: [String], on database: any Database) async throws -> [String: UUID] {
        var owners: [String: UUID] = [:]
        for chunk in wallets.chunks(of: lookupChunk) {
            for row in try await BeneficiaryRow.query(on: database).filter(\.$walletAddress ~~ Array(chunk)).all() {
                if let wallet = row.walletAddress, let id = row.id { owners[wallet] = id }
            }
        }
        return owners
    }

    /// A blind-index column the checks compare beneficiaries by.
    enum BlindIndex: String, Sendable {
        case phone = "phone_index"
        case nationalID = "national_id_index"
        case identity = "identity_index"
    }

    /// Who holds a blind index: what the checks need of another beneficiary, read without
    /// decoding whole rows (a `BeneficiaryRow` is decoded field by field through reflection,
    /// which was most of a check's CPU).
    struct IndexHolder: Sendable, Equatable {
        var id: UUID
        var archived: Bool
    }

    /// The beneficiaries (archived ones included) holding each of `values` in `column`, in id order.
    static func holders(
        of column: BlindIndex, _ values: [String], on sql: any SQLDatabase
    ) async throws -> [String: [IndexHolder]] {
        var grouped: [String: [IndexHolder]] = [:]
        for chunk in Array(Set(values)).chunks(of: lookupChunk) {
            let rows = try await sql.select()
                .column(SQLIdentifier("id")).column(SQLIdentifier(column.rawValue), as: "value")
                .column(SQLIdentifier("archived_at"))
                .from(BeneficiaryRow.schema)
                .where(SQLIdentifier(column.rawValue), .in, SQLBind.group(Array(chunk)))
                .orderBy("id").all()
            for row in rows {
                let holder = IndexHolder(
                    id: try row.decode(column: "id", as: UUID.self),
                    archived: try row.decodeNil(column: "archived_at") == false)
                grouped[try row.decode(column: "value", as: String.self), default: []].append(holder)
            }
        }
        return grouped
    }

    /// Up to `limit` live beneficiaries matching a resolved filter, in id order after `after`.
    static func matching(
        _ resolved: ResolvedBeneficiaryFilter, after: UUID?, limit: Int, on database: any Database
    ) async throws -> [BeneficiaryRow] {
        var query = matchingQuery(resolved, on: database).sort(\.$id).limit(limit)
        if let after { query = query.filter(\.$id > after) }
        return try await query.all()
    }

    /// ``matching(_:after:limit:on:)`` reading only the ids and verification statuses.
    static func matchingStatuses(
        _ resolved: ResolvedBeneficiaryFilter, after: UUID?, limit: Int, on database: any Database
    ) async throws -> [BeneficiaryRow] {
        var query = matchingQuery(resolved, on: database).field(\.$id).field(\.$verificationStatus)
            .sort(\.$id).limit(limit)
        if let after { query = query.filter(\.$id > after) }
        return try await query.all()
    }

    /// Live beneficiaries matching a resolved filter, unsorted and unlimited: callers page it.
    private static func matchingQuery(
        _ resolved: ResolvedBeneficiaryFilter, on database: any Database
    ) -> QueryBuilder<BeneficiaryRow> {
        let filter = resolved.filter
        var query = BeneficiaryRow.query(on: database).filter(\.$archivedAt == nil)
        if let value = filter.gender { query = query.filter(\.$gender == value) }
        if let value = filter.verificationStatus { query = query.filter(\.$verificationStatus == value) }
        if let value = filter.bankedStatus { query = query.filter(\.$bankedStatus == value) }
        if let value = filter.internetStatus { query = query.filter(\.$internetStatus == value) }
        if let value = filter.phoneStatus { query = query.filter(\.$phoneStatus == value) }
        if let value = filter.createdFrom { query = query.filter(\.$createdAt >= value) }
        if let value = filter.createdTo { query = query.filter(\.$createdAt < value) }
        if let value = resolved.phoneIndex { query = query.filter(\.$phoneIndex == value) }
        if let value = resolved.nationalIDIndex { query = query.filter(\.$nationalIDIndex == value) }
        if let wallet = filter.walletAddress { query = query.filter(\.$walletAddress == wallet) }
        for word in resolved.nameWordIndexes {
            query = query.filter(
                .custom(
                    SQLQueryString(
                        """
                        EXISTS (SELECT 1 FROM \(ident: nameWordsTable) w WHERE w.word_index = \(bind: word)
                        AND w.beneficiary_id = \(ident: BeneficiaryRow.schema).\(ident: "id"))
                        """)))
        }
        if let projectID = resolved.projectID {
            query = query.join(EnrolmentRow.self, on: \BeneficiaryRow.$id == \EnrolmentRow.$beneficiaryID)
                .filter(EnrolmentRow.self, \.$projectID == projectID)
        }
        if let groupID = resolved.groupID {
            query = query.join(GroupMemberRow.self, on: \BeneficiaryRow.$id == \GroupMemberRow.$beneficiaryID)
                .filter(GroupMemberRow.self, \.$groupID == groupID)
        }
        return query
    }
}
