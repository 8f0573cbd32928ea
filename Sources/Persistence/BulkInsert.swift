package import FluentKit
import Foundation
import Logging
import NIOCore
import PostgresKit
import PostgresNIO
import SQLKit
import SharedModels

/// One column value of a bulk insert.
package enum BulkValue: Sendable, Equatable {
    case text(String)
    case uuid(UUID)
    case int(Int)
    case double(Double)
    case date(Date)
    case null

    package static func of(_ value: String?) -> BulkValue { value.map(BulkValue.text) ?? .null }
    package static func of(_ value: UUID?) -> BulkValue { value.map(BulkValue.uuid) ?? .null }
    package static func of(_ value: Int?) -> BulkValue { value.map(BulkValue.int) ?? .null }
    package static func of(_ value: Double?) -> BulkValue { value.map(BulkValue.double) ?? .null }
    package static func of(_ value: Date?) -> BulkValue { value.map(BulkValue.date) ?? .null }

    var sql: any SQLExpression {
        switch self {
        case .text(let value): SQLBind(value)
        case .uuid(let value): SQLBind(value)
        case .int(let value): SQLBind(value)
        case .double(let value): SQLBind(value)
        case .date(let value): SQLBind(value)
        case .null: SQLLiteral.null
        }
    }

    /// The value in `COPY`'s text format: backslash escapes, `\N` for NULL, timestamps in UTC.
    func writeCopyText(to buffer: inout ByteBuffer) {
        switch self {
        case .text(let value):
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
                case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
                case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
                default: buffer.writeInteger(byte)
                }
            }
        case .uuid(let value):
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: UUID.lowercasedLength) {
                value.writeLowercased(into: $0)
            }
        case .int(let value): Self.writeDecimal(value, to: &buffer)
        case .double(let value):
            buffer.writeString(
                value.isFinite ? "\(value)" : (value.isNaN ? "NaN" : value > 0 ? "Infinity" : "-Infinity"))
        case .date(let value): buffer.writeString(Self.timestamp(value))
        case .null: buffer.writeStaticString("\\N")
        }
    }

    /// The digits of `value`, written straight into the buffer: a ledger batch writes six
    /// integers a row.
    static func writeDecimal(_ value: Int, to buffer: inout ByteBuffer) {
        if value < 0 { buffer.writeInteger(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 20) { bytes in
            var digits = 0
            repeat {
                bytes[digits] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                digits += 1
            } while magnitude > 0
            // Written least significant first.
            var (low, high) = (0, digits - 1)
            while low < high {
                bytes.swapAt(low, high)
                low += 1
                high -= 1
            }
            return digits
        }
    }

    /// `YYYY-MM-DD HH:MM:SS.ffffff+00`, to the microsecond PostgreSQL keeps (truncated, as
    /// PostgresNIO's binary encoding truncates).
    static func timestamp(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.towardZero))
        var days = micros / 86_400_000_000
        var rest = micros % 86_400_000_000
        if rest < 0 {
            days -= 1
            rest += 86_400_000_000
        }
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let seconds = rest / 1_000_000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) \(pad(seconds / 3600, 2)):"
            + "\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2)).\(pad(rest % 1_000_000, 6))+00"
    }
}

/// Bulk writes for the paths that write thousands of rows at once (imports, their events and
/// enrolments). Fluent's model `create` finds a model's fields by runtime reflection on every
/// row, which costs more than the database does; this takes the columns as given. On PostgreSQL
/// the rows stream in with `COPY … FROM STDIN` on the caller's connection (inside its
/// transaction); on SQLite they go as multi-row `INSERT`s.
package struct BulkInsert: Sendable {
    package let table: String
    package let columns: [String]
    private var rows: [[BulkValue]] = []

    package init(into table: String, columns: [String]) {
        self.table = table
        self.columns = columns
    }

    package var isEmpty: Bool { rows.isEmpty }
    package var count: Int { rows.count }

    /// Adds a row: one value per column, in the order of `columns`.
    package mutating func append(_ values: [BulkValue]) {
        rows.append(values)
    }

    package func run(on database: any Database) async throws {
        guard !rows.isEmpty else { return }
        if let bad = rows.first(where: { $0.count != columns.count }) {
            throw BulkInsertError.rowWidth(table: table, expected: columns.count, got: bad.count)
        }
        if let postgres = database as? any PostgresDatabase {
            try await copy(on: postgres, logger: database.logger)
        } else {
            try await insert(on: database)
        }
    }

    /// As many rows per statement as stay under both databases' bind limits (SQLite 32,766).
    private func insert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw BulkInsertError.notSQL }
        let perStatement = max(1, 30_000 / max(1, columns.count))
        for start in stride(from: 0, to: rows.count, by: perStatement) {
            var insert = sql.insert(into: table).columns(columns)
            for row in rows[start..<min(start + perStatement, rows.count)] { insert = insert.values(row.map(\.sql)) }
            try await insert.run()
        }
    }

    private func copy(on postgres: any PostgresDatabase, logger: Logger) async throws {
        let rows = rows
        let table = table
        let columns = columns
        try await postgres.withConnection { connection in
            connection.eventLoop.makeFutureWithTask {
                try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                    var buffer = ByteBuffer()
                    buffer.reserveCapacity(1 << 20)
                    // Rows written together mostly share their times (a ledger batch has one).
                    var lastDate: (date: Date, text: String)?
                    for row in rows {
                        for (index, value) in row.enumerated() {
                            if index > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
                            if case .date(let date) = value {
                                if lastDate?.date != date { lastDate = (date, BulkValue.timestamp(date)) }
                                buffer.writeString(lastDate?.text ?? "")
                            } else {
                                value.writeCopyText(to: &buffer)
                            }
                        }
                        buffer.writeInteger(UInt8(ascii: "\n"))
                        if buffer.readableBytes >= 1 << 20 {
                            try await writer.write(buffer)
                            buffer.clear()
                        }
                    }
                    if buffer.readableBytes > 0 { try await writer.write(buffer) }
                }
            }
        }.get()
    }
}

/// A bulk insert that cannot run: a programming error, reported rather than trapped.
package enum BulkInsertError: Error, Equatable {
    case notSQL
    case rowWidth(table: String, expected: Int, got: Int)
}
