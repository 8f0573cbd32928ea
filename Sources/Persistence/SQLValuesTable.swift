package import SQLKit

/// A batch of rows given inline as a derived table with named columns, so one statement can join
/// the whole batch: `(SELECT column1 AS a, column2 AS b FROM (VALUES (…), (…)) AS x) AS name`.
///
/// Spelt this way because SQLite accepts no column list on a `VALUES` alias, while both engines
/// name a `VALUES` list's columns `column1`, `column2`, ….
package struct SQLValuesTable: SQLExpression {
    /// The derived table's name, for `name.column` in the rest of the statement.
    package let name: String
    /// The column names, in the order of each row's values.
    package let columns: [String]
    /// The rows; each holds one expression (usually a bind) per column.
    package let rows: [[any SQLExpression]]

    /// Names `rows` as table `name` with `columns`; every row must have one value per column.
    package init(_ name: String, columns: [String], rows: [[any SQLExpression]]) {
        precondition(!rows.isEmpty, "a VALUES list needs at least one row")
        precondition(rows.allSatisfy { $0.count == columns.count }, "each row needs one value per column")
        self.name = name
        self.columns = columns
        self.rows = rows
    }

    package func serialize(to serializer: inout SQLSerializer) {
        serializer.write("(SELECT ")
        for (index, column) in columns.enumerated() {
            if index > 0 { serializer.write(", ") }
            serializer.write("column\(index + 1) AS ")
            SQLIdentifier(column).serialize(to: &serializer)
        }
        serializer.write(" FROM (VALUES ")
        SQLList(rows.map { SQLGroupExpression($0) }).serialize(to: &serializer)
        serializer.write(") AS x) AS ")
        SQLIdentifier(name).serialize(to: &serializer)
    }
}
