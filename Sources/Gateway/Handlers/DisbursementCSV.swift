import Foundation
import OpenAPIRuntime
import ServerKit
import SharedModels

/// A disbursement's per-beneficiary amounts uploaded as CSV: read as it streams in, every row
/// checked, and refused whole with each problem named by its line if any row is bad (a payment
/// list is paid as written or not at all).
enum DisbursementCSV {
    struct Row: Sendable, Equatable {
        /// The line the row starts on, the header being line 1.
        var line: Int
        var beneficiaryID: String
        var amount: Int64
    }

    /// As many rows as a request may name (`maxRequestLines` in project-c2c).
    static let maxRows = 10_000
    /// Far above 10,000 rows of an id and an amount, with room for extra columns.
    static let maxBytes = 8 * 1024 * 1024
    /// Problems named before the rest are only counted.
    static let maxProblems = 100

    static func rows(of body: HTTPBody) async throws -> [Row] {
        var parser = CSVParser()
        var records: [CSVParser.Record] = []
        var bytes = 0
        for try await chunk in body {
            bytes += chunk.count
            guard bytes <= maxBytes else {
                throw ServiceError(
                    .invalidArgument, reason: "disbursement.csv_too_large",
                    message:
                        "The CSV is larger than \(maxBytes / 1_048_576) MiB; a disbursement names at most \(maxRows) rows per request."
                )
            }
            records += parser.feed(chunk)
            // Counted as they arrive: a body of short lines is refused before it fills memory.
            if records.count > maxRows + 1_000 {
                throw ServiceError.invalid(
                    field: "body", "has more than \(maxRows) rows; at most \(maxRows) per request")
            }
        }
        records += parser.finish()
        return try rows(from: records)
    }

    static func rows(from records: [CSVParser.Record]) throws -> [Row] {
        var problems: [FieldViolation] = []
        var uncounted = 0
        func problem(_ field: String, _ reason: String) {
            if problems.count < maxProblems {
                problems.append(FieldViolation(field: field, reason: reason))
            } else {
                uncounted += 1
            }
        }
        let content = records.filter { record in
            if case .success(let fields) = record.fields { return fields != [""] }
            return true
        }
        guard let header = content.first else { throw ServiceError.invalid(field: "body", "the CSV is empty") }
        guard case .success(let names) = header.fields else {
            throw ServiceError.invalid(field: "line \(header.line)", "the header cannot be read")
        }
        let normalized = names.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let idColumn = normalized.firstIndex { $0 == "beneficiaryid" || $0 == "beneficiary_id" }
        let amountColumn = normalized.firstIndex(of: "amount")
        guard let idColumn, let amountColumn else {
            throw ServiceError.invalid(
                field: "line \(header.line)", "the header must name the columns beneficiaryId and amount")
        }
        let data = content.dropFirst()
        if data.count > maxRows {
            throw ServiceError.invalid(field: "body", "has \(data.count) rows; at most \(maxRows) per request")
        }
        var rows: [Row] = []
        rows.reserveCapacity(data.count)
        for record in data {
            let fields: [String]
            switch record.fields {
            case .failure(let reason):
                problem("line \(record.line)", "\(reason)")
                continue
            case .success(let values):
                fields = values
            }
            let id = idColumn < fields.count ? fields[idColumn].trimmingCharacters(in: .whitespaces) : ""
            let amountText =
                amountColumn < fields.count ? fields[amountColumn].trimmingCharacters(in: .whitespaces) : ""
            var valid = true
            if UUID(uuidString: id) == nil {
                problem("line \(record.line).beneficiaryId", id.isEmpty ? "is missing" : "must be a UUID")
                valid = false
            }
            let amount = Int64(amountText)
            if amount == nil || (amount ?? 0) <= 0 {
                problem("line \(record.line).amount", "must be a whole number of minor units above zero")
                valid = false
            }
            if valid, let amount { rows.append(Row(line: record.line, beneficiaryID: id, amount: amount)) }
        }
        if uncounted > 0 { problems.append(FieldViolation(field: "body", reason: "and \(uncounted) more problems")) }
        guard problems.isEmpty else { throw ServiceError.invalid(problems) }
        guard !rows.isEmpty else { throw ServiceError.invalid(field: "body", "the CSV has no rows") }
        return rows
    }

    /// project-c2c names a line's problem `lines[i].field`; a CSV's author knows it by line.
    static func renamed(_ error: ServiceError, lines: [Int]) -> ServiceError {
        var renamed = error
        renamed.violations = error.violations.map { violation in
            guard violation.field.hasPrefix("lines["), let close = violation.field.firstIndex(of: "]"),
                let index = Int(
                    violation.field[violation.field.index(violation.field.startIndex, offsetBy: 6)..<close]),
                lines.indices.contains(index)
            else { return violation }
            return FieldViolation(
                field: "line \(lines[index])" + violation.field[violation.field.index(after: close)...],
                reason: violation.reason)
        }
        if error.kind == .invalidArgument {
            renamed.message = "The CSV has invalid rows: \(renamed.violations.map(\.field).joined(separator: ", "))."
        }
        return renamed
    }
}
