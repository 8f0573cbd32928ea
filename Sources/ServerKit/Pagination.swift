import Foundation
package import SharedModels

/// A validated request for one page of a keyset-paginated list, keyed by ids, sequence numbers
/// or text keys (``PageCursorKey``).
package struct PageRequest<Key: PageCursorKey>: Sendable, Equatable {
    package var limit: Int
    /// Return only items after this key.
    package var after: Key?

    package init(limit: Int, after: Key?) {
        self.limit = limit
        self.after = after
    }

    /// Validates a limit and an opaque cursor, naming each bad field.
    package static func validate(limit: Int, cursor: String?) -> Result<PageRequest, ServiceError> {
        var violations: [FieldViolation] = []
        if !(1...maxPageLimit).contains(limit) {
            violations.append(FieldViolation(field: "limit", reason: "must be between 1 and \(maxPageLimit)"))
        }
        var after: Key?
        if let cursor {
            if let decoded = PageCursor<Key>(encoded: cursor) {
                after = decoded.after
            } else {
                violations.append(FieldViolation(field: "cursor", reason: "is not a cursor returned by this API"))
            }
        }
        guard violations.isEmpty else { return .failure(.invalid(violations)) }
        return .success(PageRequest(limit: limit, after: after))
    }

    /// Turns `limit + 1` fetched rows into a page and the cursor of the next one, if any.
    package func page<Row>(of rows: [Row], key: (Row) throws -> Key) rethrows -> (rows: [Row], nextCursor: String?) {
        guard rows.count > limit else { return (rows, nil) }
        let page = Array(rows.prefix(limit))
        return (page, try page.last.map { PageCursor(after: try key($0)).encoded })
    }
}

/// The largest page a client may ask for.
package let maxPageLimit = 200

extension PageRequest where Key == Int64 {
    /// The sequence to read after: 0, before the first, when no cursor was given.
    package var afterSequence: Int64 { after ?? 0 }
}
