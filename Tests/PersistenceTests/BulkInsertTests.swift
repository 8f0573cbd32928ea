import FluentKit
import Foundation
import Persistence
import SQLKit
import TestInfrastructure
import Testing

@Suite("Bulk inserts: COPY on PostgreSQL, multi-row INSERT on SQLite")
struct BulkInsertTests {
    private struct Stored: Decodable, Equatable {
        var id: UUID
        var label: String?
        var amount: Int?
        var ratio: Double?
        var at: Date?
    }

    @Test(
        "values with tabs, newlines, backslashes, NULLs and any characters come back exactly; a rolled-back transaction keeps none",
        arguments: DatabaseEngine.available)
    func roundTrip(engine: DatabaseEngine) async throws {
        try await TestDatabase.with(engine, migrating: []) { testDatabase in
            let database = try ServiceDatabase(
                configuration: testDatabase.configuration, schema: "bulk", logger: .test)
            do {
                try await database.prepare()
                // given
                let timestamp = engine == .postgres ? "TIMESTAMPTZ" : "DOUBLE PRECISION"
                try await database.sql.raw(
                    """
                    CREATE TABLE things (id UUID PRIMARY KEY, label TEXT, amount BIGINT, ratio DOUBLE PRECISION,
                        at \(unsafeRaw: timestamp))
                    """
                ).run()
                let labels = [
                    "plain", "tab\there", "new\nline", "carriage\rreturn", "back\\slash \\N not null", "ünïcödé 🙂",
                    "", "quote \" and ' and ,",
                ]
                let moments = [
                    Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_764_112_216.123456),
                    Date(timeIntervalSince1970: -86_400.5), Date(timeIntervalSince1970: 951_782_400),  // 2000-02-29
                ]
                var expected: [Stored] = []
                var insert = BulkInsert(into: "things", columns: ["id", "label", "amount", "ratio", "at"])
                // Enough wide rows for several COPY writes (a megabyte each) and several INSERTs on SQLite.
                for index in 0..<7000 {
                    let label = labels[index % labels.count] + String(repeating: "·", count: index % 200)
                    let row = Stored(
                        id: UUID(), label: index % 9 == 8 ? nil : label,
                        amount: index % 7 == 0
                            ? nil : index % 13 < 3 ? [Int.min, Int.max, 0][index % 13] : index * 1_000_003 - 3_500_000,
                        ratio: index % 5 == 0 ? nil : Double(index) / 7, at: index % 6 == 0 ? nil : moments[index % 4])
                    expected.append(row)
                    insert.append([.uuid(row.id), .of(row.label), .of(row.amount), .of(row.ratio), .of(row.at)])
                }
                // when
                let rows = insert
                struct Abandon: Error {}
                await #expect(throws: Abandon.self) {
                    try await database.db.transaction { tx in
                        try await rows.run(on: tx)
                        throw Abandon()
                    }
                }
                let afterRollback = try await database.sql.raw("SELECT id FROM things").all()
                try await database.db.transaction { tx in try await rows.run(on: tx) }
                var bad = BulkInsert(into: "things", columns: ["id", "label"])
                bad.append([.uuid(UUID())])
                // then
                let stored = try await database.sql.raw("SELECT id, label, amount, ratio, at FROM things").all(
                    decoding: Stored.self)
                let byID = Dictionary(uniqueKeysWithValues: stored.map { ($0.id, $0) })
                #expect(afterRollback.isEmpty)
                #expect(stored.count == expected.count)
                for row in expected {
                    let found = byID[row.id]
                    #expect(found?.label == row.label)
                    #expect(found?.amount == row.amount)
                    #expect(found?.ratio == row.ratio)
                    #expect(
                        abs((found?.at?.timeIntervalSince1970 ?? 0) - (row.at?.timeIntervalSince1970 ?? 0)) < 0.000_002)
                    #expect((found?.at == nil) == (row.at == nil))
                }
                await #expect(throws: BulkInsertError.self) { try await bad.run(on: database.db) }
                await database.shutdown()
            } catch {
                await database.shutdown()
                throw error
            }
        }
    }
}
