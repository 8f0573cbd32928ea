public import FluentKit
public import SQLKit

/// Multi-row `INSERT`s built straight from column values, for the paths that write thousands of
/// rows at once (imports, their events and enrolments). Fluent's model `create` finds a model's
/// fields by runtime reflection on every row, which costs more than the database does.
public struct BulkInsert: Sendable {
    public let table: String
    public let columns: [String]
    private var rows: [[any SQLExpression]] = []

    public init(into table: String, columns: [String]) {
        self.table = table
        self.columns = columns
    }

    public var isEmpty: Bool { rows.isEmpty }
    public var count: Int { rows.count }

    /// Adds a row: one value per column, in the order of `columns` (see ``value(_:)``).
    public mutating func append(_ values: [any SQLExpression]) {
        rows.append(values)
    }

    /// A bound value, or SQL `NULL` for `nil`.
    public static func value<Value: Encodable & Sendable>(_ value: Value?) -> any SQLExpression {
        value.map { SQLBind($0) } ?? SQLLiteral.null
    }

    /// Writes the rows, as many per statement as stay under both databases' bind limits
    /// (SQLite 32,766, PostgreSQL 65,535).
    public func run(on database: any Database) async throws {
        guard !rows.isEmpty else { return }
        guard let sql = database as? any SQLDatabase else { throw BulkInsertError.notSQL }
        if let bad = rows.first(where: { $0.count != columns.count }) {
            throw BulkInsertError.rowWidth(table: table, expected: columns.count, got: bad.count)
        }
        let perStatement = max(1, 30_000 / max(1, columns.count))
        for start in stride(from: 0, to: rows.count, by: perStatement) {
            var insert = sql.insert(into: table).columns(columns)
            for row in rows[start..<min(start + perStatement, rows.count)] { insert = insert.values(row) }
            try await insert.run()
        }
    }
}

/// A bulk insert that cannot run: a programming error, reported rather than trapped.
public enum BulkInsertError: Error, Equatable {
    case notSQL
    case rowWidth(table: String, expected: Int, got: Int)
}
