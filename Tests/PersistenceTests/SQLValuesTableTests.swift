import FluentKit
import Foundation
import Persistence
import SQLKit
import TestInfrastructure
import Testing

@Suite("Inline VALUES tables: a batch joined by one statement")
struct SQLValuesTableTests {
    private struct Stored: Decodable, Equatable {
        var id: UUID
        var label: String?
        var amount: Int
    }

    @Test(
        "an UPDATE joined to a VALUES table changes exactly the matched rows, NULLs included, and returns them",
        arguments: DatabaseEngine.available)
    func updateJoin(engine: DatabaseEngine) async throws {
        try await TestDatabase.with(engine, migrating: []) { testDatabase in
            let database = try ServiceDatabase(
                configuration: testDatabase.configuration, schema: "values_table", logger: .test)
            do {
                try await database.prepare()
                // given
                try await database.sql.raw(
                    "CREATE TABLE things (id UUID PRIMARY KEY, label TEXT, amount BIGINT NOT NULL)"
                ).run()
                let ids = (0..<4).map { _ in UUID() }
                for (index, id) in ids.enumerated() {
                    try await database.sql.raw(
                        "INSERT INTO things (id, label, amount) VALUES (\(bind: id), \(bind: "old \(index)"), \(bind: index))"
                    ).run()
                }
                let absent = UUID()
                // The first row's label is NULL, so neither engine can take the column's type from it.
                let values = SQLValuesTable(
                    "v", columns: ["id", "label", "amount"],
                    rows: [
                        [SQLBind(ids[0]), SQLBind(String?.none), SQLBind(100)],
                        [SQLBind(ids[2]), SQLBind("new 2"), SQLBind(-7)],
                        [SQLBind(absent), SQLBind("nobody"), SQLBind(1)],
                    ])
                // when
                let returned = try await database.sql.raw(
                    """
                    UPDATE things SET label = v.label, amount = v.amount FROM \(values)
                    WHERE things.id = v.id RETURNING things.id
                    """
                ).all().map { try $0.decode(column: "id", as: UUID.self) }
                // then
                let stored = try await database.sql.raw("SELECT id, label, amount FROM things").all(
                    decoding: Stored.self)
                let byID = Dictionary(uniqueKeysWithValues: stored.map { ($0.id, $0) })
                #expect(Set(returned) == [ids[0], ids[2]])
                #expect(byID[ids[0]] == Stored(id: ids[0], label: nil, amount: 100))
                #expect(byID[ids[1]] == Stored(id: ids[1], label: "old 1", amount: 1))
                #expect(byID[ids[2]] == Stored(id: ids[2], label: "new 2", amount: -7))
                #expect(byID[ids[3]] == Stored(id: ids[3], label: "old 3", amount: 3))
                #expect(byID[absent] == nil)
                #expect(stored.count == 4)
            } catch {
                await database.shutdown()
                throw error
            }
            await database.shutdown()
        }
    }
}
