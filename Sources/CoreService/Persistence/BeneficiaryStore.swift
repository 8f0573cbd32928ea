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

    /// Writes a changed beneficiary back.
    static func save(_ row: BeneficiaryRow, on database: any Database) async throws {
        try await row.save(on: database)
    }

    /// Inserts new beneficiaries with multi-row statements, a few hundred rows each.
    static func insert(_ rows: [BeneficiaryRow], on database: any Database) async throws {
        var insert = BulkInsert(into: BeneficiaryRow.schema, columns: BeneficiaryRow.insertColumns)
        for row in rows { insert.append(row.insertValues) }
        try await insert.run(on: database)
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
