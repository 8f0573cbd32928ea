package import Foundation
package import ServerKit

/// Where a service keeps its rows.
package enum DatabaseLocation: Sendable, Equatable {
    /// One SQLite file per service, for the embedded default.
    case sqlite(path: String)
    /// A PostgreSQL database; the service works inside its own schema.
    case postgres(url: URL)

    /// A description safe to log: never the password.
    package var redacted: String {
        switch self {
        case .sqlite(let path): "sqlite \(path)"
        case .postgres(let url):
            "postgres \(url.host ?? "?"):\(url.port ?? 5432)\(url.path)"
        }
    }
}

/// A service's database settings.
package struct ServiceDatabaseConfiguration: Sendable, Equatable {
    package var location: DatabaseLocation
    /// Connections per event loop (PostgreSQL); the pool is this times the number of cores.
    package var maxConnectionsPerEventLoop: Int

    package init(location: DatabaseLocation, maxConnectionsPerEventLoop: Int = 4) {
        self.location = location
        self.maxConnectionsPerEventLoop = maxConnectionsPerEventLoop
    }

    /// Reads the service's own `RAHAT_<SERVICE>_DATABASE_URL`, else `DATABASE_URL` (postgres://…,
    /// secret, `_FILE` accepted), and `RAHAT_DB_POOL_SIZE` (connections per core, default 4).
    /// Without a URL the service uses `<dataDirectory>/<service>.sqlite`.
    ///
    /// The service's own URL lets each service log in as a PostgreSQL role that can reach only its
    /// schema (`rahat database roles`), so one service's credentials never read another's rows.
    package init(from source: inout ConfigurationSource, service: String, dataDirectory: String) {
        let pool = source.int("RAHAT_DB_POOL_SIZE", default: 4, in: 1...64)
        let own = "RAHAT_\(service.uppercased())_DATABASE_URL"
        for key in [own, "DATABASE_URL"] where source.raw(key) != nil || source.raw("\(key)_FILE") != nil {
            let text = source.secret(key)
            if let text, let url = URL(string: text),
                ["postgres", "postgresql"].contains(url.scheme?.lowercased() ?? ""),
                url.host != nil
            {
                self.init(location: .postgres(url: url), maxConnectionsPerEventLoop: pool)
                return
            }
            if text != nil {
                source.report("\(key): not a postgres:// URL with a host")
            }
            break
        }
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("\(service).sqlite").path
        self.init(location: .sqlite(path: path), maxConnectionsPerEventLoop: pool)
    }
}
