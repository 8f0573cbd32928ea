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
}
