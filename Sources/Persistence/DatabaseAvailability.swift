import AsyncKit
import PostgresNIO

/// Tells failures that mean "the database cannot be reached now" from the rest, so that they are
/// answered as unavailable (retry later) rather than as an internal error.
package enum DatabaseAvailability {
    /// No connection was free within the pool's wait, the pool is shut, or PostgreSQL's
    /// connection failed or closed.
    package static func isUnavailable(_ error: any Error) -> Bool {
        switch error {
        case is ConnectionPoolTimeoutError, is ConnectionPoolError:
            return true
        case let error as PSQLError:
            return [.connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown]
                .contains(error.code)
        default:
            return false
        }
    }

    /// A failure in words for a log line: PostgresNIO's own description of its errors says
    /// nothing, to keep queries out of logs, but its code and the connection error beneath it
    /// carry no data and tell what happened.
    package static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        return error.underlying.map { "\(error.code): \($0)" } ?? "\(error.code)"
    }
}
