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
