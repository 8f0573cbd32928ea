import AsyncKit
import PostgresNIO

/// Tells failures that mean "the database cannot be reached now" from the rest, so that they are
/// answered as unavailable (retry later) rather than as an internal error.
package enum DatabaseAvailability {
    /// No connection was free within the pool's wait, the pool is shut, or PostgreSQL's
    /// connection failed or closed, or PostgreSQL said it cannot serve now (``unavailableStates``).
    package static func isUnavailable(_ error: any Error) -> Bool {
        switch error {
        case is ConnectionPoolTimeoutError, is ConnectionPoolError:
            return true
        case let error as PSQLError:
            if error.code == .server, let state = error.serverInfo?[.sqlState] {
                return unavailableStates.contains { state.hasPrefix($0) }
            }
            return [.connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown]
                .contains(error.code)
        default:
            return false
        }
    }

    /// A transaction PostgreSQL rolled back to break a deadlock (40P01) or to keep transactions
    /// serializable (40001): nothing of it was written, and the same request sent again will most
    /// likely succeed. Answered as unavailable, never as an internal error, but not counted as the
    /// database being down, and never a reason to stop reading from a replica.
    package static func isRolledBackForRetry(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, error.code == .server, let state = error.serverInfo?[.sqlState] else {
            return false
        }
        return state == "40P01" || state == "40001"
    }

    /// SQLSTATEs (or their classes) in which PostgreSQL refuses for now what it will do later.
    /// They are the connection exceptions (08), a server shutting down, starting up or restarting
    /// after a crash (57P01–57P03, which `pg_ctl restart` sends), and too many connections
    /// (53300). A statement cancelled by its timeout (57014) is not among them: it would fail
    /// again.
    static let unavailableStates = ["08", "57P01", "57P02", "57P03", "53300"]

    /// A failure in words for a log line: PostgresNIO's own description of its errors says
    /// nothing, to keep queries out of logs, but its code and the connection error beneath it
    /// carry no data and tell what happened.
    package static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        return error.underlying.map { "\(error.code): \($0)" } ?? "\(error.code)"
    }
}
