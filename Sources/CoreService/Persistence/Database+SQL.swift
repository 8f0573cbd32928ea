import FluentKit
import SQLKit

extension Database {
    /// The handle (or transaction) as SQLKit, for the stores' statements: both drivers core runs
    /// on are SQL databases, so this fails only on a misconfigured deployment.
    func sql() throws -> any SQLDatabase {
        guard let sql = self as? any SQLDatabase else { throw CoreStorageError() }
        return sql
    }
}

/// The core database is not an SQL database: a deployment error, retried until it is fixed.
struct CoreStorageError: Error, CustomStringConvertible {
    var description: String { "the core service needs an SQL database" }
}
