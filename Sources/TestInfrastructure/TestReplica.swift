package import Foundation
import PostgresNIO

/// The streaming replica `scripts/test` runs beside the test PostgreSQL (`pg_basebackup -R`), for
/// the suites that read from one. It replicates the whole test server, so every test database
/// appears on it. Stopping it or pausing its replay is seen by every test using it: the suites
/// that do so are serialized and put it back as they found it.
package enum TestReplica {
    /// The replica's `postgres` database (`RAHAT_TEST_POSTGRES_REPLICA_URL`).
    package static var adminURL: URL? {
        ProcessInfo.processInfo.environment["RAHAT_TEST_POSTGRES_REPLICA_URL"].flatMap(URL.init(string:))
    }

    /// The primary's `postgres` database: the test server the replica streams from.
    package static var primaryAdminURL: URL? { TestPostgres.adminURL }

    /// Whether replica suites run: with a replica, and under CI always (failing without one).
    package static var isAvailable: Bool {
        adminURL != nil || ProcessInfo.processInfo.environment["CI"] != nil
    }

    package enum Failure: Error, CustomStringConvertible {
        case notConfigured
        case notPostgres
        case behind(Duration)
        case control(String)

        package var description: String {
            switch self {
            case .notConfigured:
                "RAHAT_TEST_POSTGRES_REPLICA_URL is not set; run the suite with scripts/test, which starts a replica"
            case .notPostgres: "a replica replicates a PostgreSQL database only"
            case .behind(let waited): "the replica did not catch up with the primary within \(waited)"
            case .control(let message): message
            }
        }
    }

    /// The URL of the replica's copy of `primary` (a database on the test server), once the
    /// replica has replayed everything the primary had written when this was called.
    package static func url(of primary: URL) async throws -> URL {
        guard let admin = adminURL else { throw Failure.notConfigured }
        try await waitUntilCaughtUp()
        return TestPostgres.url(admin, database: String(primary.path.dropFirst()))
    }

    /// Waits until the replica has replayed what the primary had written when this was called.
    package static func waitUntilCaughtUp(within limit: Duration = .seconds(60)) async throws {
        guard let admin = adminURL, let primary = TestPostgres.adminURL else { throw Failure.notConfigured }
        let target = try await TestPostgres.withConnection(admin: primary) { connection, logger in
            var position = ""
            let rows = try await connection.query("SELECT pg_current_wal_insert_lsn()::text", logger: logger)
            for try await (text) in rows.decode(String.self) { position = text }
            return position
        }
        let started = ContinuousClock.now
        while true {
            let caughtUp = try? await TestPostgres.withConnection(admin: admin) { connection, logger in
                var caughtUp = false
                let rows = try await connection.query(
                    "SELECT coalesce(pg_last_wal_replay_lsn() >= \(target)::pg_lsn, false)", logger: logger)
                for try await (done) in rows.decode(Bool.self) { caughtUp = done }
                return caughtUp
            }
            if caughtUp == true { return }
            guard ContinuousClock.now - started < limit else { throw Failure.behind(limit) }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Stops applying the primary's WAL (the replica still receives it): it then lags.
    package static func pauseReplay() async throws {
        guard let admin = adminURL else { throw Failure.notConfigured }
        try await execute("SELECT pg_wal_replay_pause()")
        // A pause takes effect at the next record: wait until replay has stopped.
        for _ in 0..<200 {
            let state = try await TestPostgres.withConnection(admin: admin) { connection, logger in
                var state = ""
                let rows = try await connection.query("SELECT pg_get_wal_replay_pause_state()", logger: logger)
                for try await (text) in rows.decode(String.self) { state = text }
                return state
            }
            if state == "paused" { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw Failure.control("the replica's replay did not pause")
    }

    /// Applies the primary's WAL again.
    package static func resumeReplay() async throws {
        try await execute("SELECT pg_wal_replay_resume()")
    }

    /// Stops the replica server (`pg_ctl stop -m fast`).
    package static func stop() async throws {
        try await control("stop")
    }

    /// Starts the stopped replica server again and waits until it accepts connections.
    package static func start() async throws {
        try await control("start")
    }

    /// The statements connections named `applicationName` on the server `admin` names are running,
    /// or ran last (`pg_stat_activity.query`).
    package static func statements(of applicationName: String, on admin: URL) async throws -> [String] {
        try await TestPostgres.withConnection(admin: admin) { connection, logger in
            var statements: [String] = []
            let rows = try await connection.query(
                "SELECT query FROM pg_stat_activity WHERE application_name = \(applicationName)", logger: logger)
            for try await (query) in rows.decode(String.self) { statements.append(query) }
            return statements
        }
    }

    private static func execute(_ statement: String) async throws {
        guard let admin = adminURL else { throw Failure.notConfigured }
        try await TestPostgres.execute(admin: admin, statement)
    }

    /// Runs `ctl <command>` and waits for it. Not with Foundation's `Process`: its wait missed the
    /// exit of a script whose server lives on after it, and hung.
    private static func control(_ command: String) async throws {
        guard let script = ProcessInfo.processInfo.environment["RAHAT_TEST_POSTGRES_REPLICA_CTL"] else {
            throw Failure.notConfigured
        }
        let status = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var pid: pid_t = 0
                let arguments = ["/bin/bash", script, command]
                var argv = arguments.map { strdup($0) } + [nil]
                defer { for pointer in argv { free(pointer) } }
                guard posix_spawn(&pid, "/bin/bash", nil, nil, &argv, environ) == 0 else {
                    continuation.resume(returning: Int32(-1))
                    return
                }
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                continuation.resume(returning: status)
            }
        }
        guard status == 0 else {
            throw Failure.control("the replica's `ctl \(command)` failed (wait status \(status))")
        }
    }
}

extension TestReplica {
    /// Runs `body` while no other test in this process uses the replica: tests pause its replay
    /// and stop it, which any other test reading from it at the time would see.
    package static func exclusively<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await ReplicaTurns.shared.acquire()
        do {
            let result = try await body()
            await ReplicaTurns.shared.release()
            return result
        } catch {
            await ReplicaTurns.shared.release()
            throw error
        }
    }
}

/// One test at a time on the replica, in the order they asked.
private actor ReplicaTurns {
    static let shared = ReplicaTurns()
    private var held = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard held else {
            held = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            held = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
