public import Foundation
public import ServerKit

/// Where a service keeps its rows.
public enum DatabaseLocation: Sendable, Equatable {
    /// One SQLite file per service, for the embedded default.
    case sqlite(path: String)
    /// A PostgreSQL database; the service works inside its own schema.
    case postgres(url: URL)

    /// A description safe to log: never the password.
    public var redacted: String {
        switch self {
        case .sqlite(let path): "sqlite \(path)"
        case .postgres(let url):
            "postgres \(url.host ?? "?"):\(url.port ?? 5432)\(url.path)"
        }
    }
}

/// A service's database settings.
public struct ServiceDatabaseConfiguration: Sendable, Equatable {
    public var location: DatabaseLocation
    /// Connections per event loop (PostgreSQL); the pool is this times the number of cores.
    public var maxConnectionsPerEventLoop: Int

    public init(location: DatabaseLocation, maxConnectionsPerEventLoop: Int = 4) {
        self.location = location
        self.maxConnectionsPerEventLoop = maxConnectionsPerEventLoop
    }

    /// Reads `DATABASE_URL` (postgres://…, secret, `DATABASE_URL_FILE` accepted) and
    /// `RAHAT_DB_POOL_SIZE` (connections per core, default 4). Without a URL the service uses
    /// `<dataDirectory>/<service>.sqlite`.
    public init(from source: inout ConfigurationSource, service: String, dataDirectory: String) {
        let pool = source.int("RAHAT_DB_POOL_SIZE", default: 4, in: 1...64)
        if source.raw("DATABASE_URL") != nil || source.raw("DATABASE_URL_FILE") != nil {
            let text = source.secret("DATABASE_URL")
            if let text, let url = URL(string: text),
                ["postgres", "postgresql"].contains(url.scheme?.lowercased() ?? ""),
                url.host != nil
            {
                self.init(location: .postgres(url: url), maxConnectionsPerEventLoop: pool)
                return
            }
            if text != nil {
                source.report("DATABASE_URL: not a postgres:// URL with a host")
            }
        }
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("\(service).sqlite").path
        self.init(location: .sqlite(path: path), maxConnectionsPerEventLoop: pool)
    }
}
