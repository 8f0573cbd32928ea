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

/// A PostgreSQL streaming replica that reads tolerant of staleness may use, and how stale it may be.
package struct ReadReplicaConfiguration: Sendable, Equatable {
    /// The replica (a hot standby of the service's primary).
    package var url: URL
    /// Past this lag the replica is not used and reads go to the primary.
    package var maxLag: Duration
    /// How often the lag is measured.
    package var checkInterval: Duration

    package init(url: URL, maxLag: Duration = .seconds(2), checkInterval: Duration = .milliseconds(250)) {
        self.url = url
        self.maxLag = maxLag
        self.checkInterval = checkInterval
    }

    /// A description safe to log: never the password.
    package var redacted: String { DatabaseLocation.postgres(url: url).redacted }
}

/// A service's database settings.
package struct ServiceDatabaseConfiguration: Sendable, Equatable {
    package var location: DatabaseLocation
    /// Connections per event loop (PostgreSQL); the pool is this times the number of cores.
    package var maxConnectionsPerEventLoop: Int
    /// A read replica for the reads that tolerate staleness; nil: every read goes to `location`.
    package var readReplica: ReadReplicaConfiguration?

    package init(
        location: DatabaseLocation, maxConnectionsPerEventLoop: Int = 4, readReplica: ReadReplicaConfiguration? = nil
    ) {
        self.location = location
        self.maxConnectionsPerEventLoop = maxConnectionsPerEventLoop
        self.readReplica = readReplica
    }

    /// Reads the service's own `RAHAT_<SERVICE>_DATABASE_URL`, else `DATABASE_URL` (postgres://…,
    /// secret, `_FILE` accepted), and `RAHAT_DB_POOL_SIZE` (connections per core, default 4).
    /// Without a URL the service uses `<dataDirectory>/<service>.sqlite`.
    ///
    /// The service's own URL lets each service log in as a PostgreSQL role that can reach only its
    /// schema (`rahat database roles`), so one service's credentials never read another's rows.
    ///
    /// `RAHAT_<SERVICE>_DATABASE_READ_URL`, else `DATABASE_READ_URL`, names a streaming replica of
    /// that database for the reads that tolerate staleness, used while its lag stays under
    /// `RAHAT_DB_REPLICA_MAX_LAG_MS` (default 2000) as measured every `RAHAT_DB_REPLICA_CHECK_MS`
    /// (default 250).
    package init(from source: inout ConfigurationSource, service: String, dataDirectory: String) {
        let pool = source.int("RAHAT_DB_POOL_SIZE", default: 4, in: 1...64)
        let prefix = "RAHAT_\(service.uppercased())_"
        let primary = Self.postgresURL(from: &source, keys: [prefix + "DATABASE_URL", "DATABASE_URL"])
        let read = Self.postgresURL(from: &source, keys: [prefix + "DATABASE_READ_URL", "DATABASE_READ_URL"])
        let maxLag = source.int("RAHAT_DB_REPLICA_MAX_LAG_MS", default: 2_000, in: 10...3_600_000)
        let interval = source.int("RAHAT_DB_REPLICA_CHECK_MS", default: 250, in: 10...60_000)
        guard let primary else {
            if read != nil {
                source.report(
                    "\(prefix)DATABASE_READ_URL / DATABASE_READ_URL: a replica needs a PostgreSQL primary (DATABASE_URL)"
                )
            }
            let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("\(service).sqlite").path
            self.init(location: .sqlite(path: path), maxConnectionsPerEventLoop: pool)
            return
        }
        self.init(
            location: .postgres(url: primary), maxConnectionsPerEventLoop: pool,
            readReplica: read.map {
                ReadReplicaConfiguration(
                    url: $0, maxLag: .milliseconds(maxLag), checkInterval: .milliseconds(interval))
            })
    }

    /// The first of `keys` that is set (directly or as `<key>_FILE`), as a postgres:// URL; a
    /// value that is not one is reported.
    private static func postgresURL(from source: inout ConfigurationSource, keys: [String]) -> URL? {
        for key in keys where source.raw(key) != nil || source.raw("\(key)_FILE") != nil {
            let text = source.secret(key)
            if let text, let url = URL(string: text),
                ["postgres", "postgresql"].contains(url.scheme?.lowercased() ?? ""),
                url.host != nil
            {
                return url
            }
            if text != nil {
                source.report("\(key): not a postgres:// URL with a host")
            }
            return nil
        }
        return nil
    }
}
