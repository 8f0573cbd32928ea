import Logging
import Metrics
import NIOCore
import SQLKit

/// A service's pooled SQL database that times each statement it runs
/// (`rahat_db_query_duration_seconds`). Statements inside a transaction are timed as the
/// transaction; this covers the ones run on their own, which are most reads.
struct TimedSQLDatabase: SQLDatabase {
    let base: any SQLDatabase
    let timer: Metrics.Timer

    var logger: Logger { base.logger }
    var eventLoop: any EventLoop { base.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { base.version }
    var dialect: any SQLDialect { base.dialect }
    var queryLogLevel: Logger.Level? { base.queryLogLevel }

    func execute(
        sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void
    )
        -> EventLoopFuture<Void>
    {
        let started = ContinuousClock.now
        let timer = self.timer
        return base.execute(sql: query, onRow).always { _ in timer.record(duration: .now - started) }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        let started = ContinuousClock.now
        defer { timer.record(duration: .now - started) }
        try await base.execute(sql: query, onRow)
    }

    /// A session is one connection's statements together, as a transaction's are: timed as a whole
    /// by its caller, not statement by statement.
    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await base.withSession(closure)
    }
}
