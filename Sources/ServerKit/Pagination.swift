public import Foundation
import SharedModels

/// A validated request for one page of a keyset-paginated list.
public struct PageRequest: Sendable, Equatable {
    /// The largest page a client may ask for.
    public static let maxLimit = 200

    public var limit: Int
    /// Return only items whose id is greater than this one.
    public var after: UUID?

    public init(limit: Int, after: UUID?) {
        self.limit = limit
        self.after = after
    }

    /// Validates a limit and an opaque cursor, naming each bad field.
    public static func validate(limit: Int, cursor: String?) -> Result<PageRequest, ServiceError> {
        var violations: [FieldViolation] = []
        if !(1...maxLimit).contains(limit) {
            violations.append(FieldViolation(field: "limit", reason: "must be between 1 and \(maxLimit)"))
        }
        var after: UUID?
        if let cursor {
            if let decoded = PageCursor(encoded: cursor) {
                after = decoded.after
            } else {
                violations.append(FieldViolation(field: "cursor", reason: "is not a cursor returned by this API"))
            }
        }
        guard violations.isEmpty else { return .failure(.invalid(violations)) }
        return .success(PageRequest(limit: limit, after: after))
    }

    /// Turns `limit + 1` fetched rows into a page and the cursor of the next one, if any.
    public func page<Row>(of rows: [Row], id: (Row) throws -> UUID) rethrows -> (rows: [Row], nextCursor: String?) {
        guard rows.count > limit else { return (rows, nil) }
        let page = Array(rows.prefix(limit))
        return (page, try page.last.map { PageCursor(after: try id($0)).encoded })
    }
}

/// Keyset pagination by a number (a ledger sequence, a line number): the last one of the
/// previous page.
public struct SequenceCursor: Sendable, Equatable {
    public var after: Int64

    /// Decodes the text form handed to clients; `nil` when it was not produced by ``encoded``.
    public init?(encoded text: String) {
        guard let data = Data(base64URLEncoded: text), data.count == 9, data.first == 2 else { return nil }
        after = data.dropFirst().reduce(Int64(0)) { $0 << 8 | Int64($1) }
        guard after >= 0 else { return nil }
    }

    public init(after: Int64) {
        self.after = after
    }

    /// A version byte and the number, big-endian, base64url without padding.
    public var encoded: String {
        var data = Data([2])
        withUnsafeBytes(of: after.bigEndian) { data.append(contentsOf: $0) }
        return data.base64URLEncoded
    }

    /// Validates a page request, naming each bad field.
    public static func validate(limit: Int, cursor: String?) throws(ServiceError) -> (limit: Int, after: Int64) {
        var violations: [FieldViolation] = []
        if !(1...PageRequest.maxLimit).contains(limit) {
            violations.append(FieldViolation(field: "limit", reason: "must be between 1 and \(PageRequest.maxLimit)"))
        }
        var after: Int64 = 0
        if let cursor {
            if let decoded = SequenceCursor(encoded: cursor) {
                after = decoded.after
            } else {
                violations.append(FieldViolation(field: "cursor", reason: "is not a cursor returned by this API"))
            }
        }
        guard violations.isEmpty else { throw .invalid(violations) }
        return (limit, after)
    }
}
