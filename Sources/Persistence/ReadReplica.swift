import Foundation
import Logging
import MetricCatalog
import Metrics
import SQLKit
import SharedModels
import Synchronization

/// Decides whether a read that tolerates staleness may go to the service's streaming replica, by
/// measuring how far the replica trails the primary.
///
/// Each check reads the primary's WAL insert position, then the replica's replay position. The
/// primary's positions are remembered with the moment they were read; the latest one the replica
/// has replayed past tells that the replica holds every commit made before that moment, since a
/// commit is in the WAL before anyone can see it. The lag is the time since that moment, measured
/// on this process's own clock, so neither server's clock matters. A primary with nothing new to
/// write shows no lag however long ago its last commit was. The replica serves reads while the
/// lag is at most ``ReadReplicaConfiguration/maxLag`` at the moment of the read, so it always
/// holds every commit older than the bound; callers who need their own newer writes ask for the
/// primary (``IncomingCall/readsPrimary``).
final class ReadReplica: Sendable {
    let configuration: ReadReplicaConfiguration
    private let logger: Logger
    private let state = Mutex(State())
    private let lag: Gauge
    private let serving: Gauge

    private struct State {
        /// Recent checks: when the primary's position was read, and what it was; oldest first.
        var marks: [(at: ContinuousClock.Instant, position: UInt64)] = []
        /// The replica holds every commit made on the primary before this moment.
        var holdsCommitsBefore: ContinuousClock.Instant?
        /// What was last announced: nil while the replica serves, else why it does not.
        var announced: String? = "not checked yet"
    }

    init(configuration: ReadReplicaConfiguration, schema: String, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        lag = PersistenceMetrics.replicaLag.gauge(schema)
        serving = PersistenceMetrics.replicaServing.gauge(schema)
        serving.record(0)
    }

    /// Why a read must go to the primary now, or nil when the replica may serve it.
    func fallbackReason(at now: ContinuousClock.Instant = .now) -> Reason? {
        state.withLock { state in
            guard let before = state.holdsCommitsBefore else { return .unavailable }
            return now - before <= configuration.maxLag ? nil : .lagging
        }
    }

    /// Why a read that could use the replica went elsewhere (or did not).
    enum Reason: String, Sendable {
        case inSync = "in_sync"
        case lagging
        case unavailable
        case readYourWrites = "read_your_writes"
        case failedOver = "failed_over"
    }

    /// One check: the primary's position, then the replica's.
    func check(primary: any SQLDatabase, replica: any SQLDatabase) async {
        let at = ContinuousClock.now
        let primaryPosition: UInt64
        do {
            let row = try await primary.raw("SELECT pg_current_wal_insert_lsn()::text AS position").first()
            guard let text = try row?.decode(column: "position", as: String.self), let position = Self.lsn(text)
            else { throw UnreadablePosition() }
            primaryPosition = position
        } catch {
            // Nothing is learnt about the replica; what it held stays true and ages past the bound.
            logger.debug(
                "could not read the primary's WAL position",
                metadata: ["error": "\(DatabaseAvailability.describe(error))"])
            return
        }
        do {
            let row = try await replica.raw(
                "SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS position"
            ).first()
            guard let row, try row.decode(column: "standby", as: Bool.self) else {
                unusable("not a standby", "the read URL names a server that is not a standby")
                return
            }
            guard let text = try row.decode(column: "position", as: String?.self), let replayed = Self.lsn(text)
            else {
                unusable("nothing replayed", "the replica has replayed nothing yet")
                return
            }
            record(primary: primaryPosition, at: at, replayed: replayed)
        } catch {
            unusable("unreachable", "the replica cannot be reached: \(DatabaseAvailability.describe(error))")
        }
    }

    /// The replica failed a read it was given; reads go to the primary until a check finds it again.
    func failed(_ error: any Error) {
        unusable("read failed", "a read on the replica failed: \(DatabaseAvailability.describe(error))")
    }

    private func record(primary position: UInt64, at: ContinuousClock.Instant, replayed: UInt64) {
        let now = ContinuousClock.now
        let measured = state.withLock { state in
            state.marks.append((at, position))
            // Older marks matter only to a replica more than the bound behind, which is unusable
            // whichever of them it passed; keeping a few checks more than the bound keeps the figure true.
            let keep = configuration.maxLag * 2 + configuration.checkInterval * 4
            if let firstKept = state.marks.firstIndex(where: { now - $0.at <= keep }), firstKept > 0 {
                state.marks.removeFirst(firstKept)
            }
            if let passed = state.marks.last(where: { $0.position <= replayed }) {
                state.holdsCommitsBefore = max(state.holdsCommitsBefore ?? passed.at, passed.at)
            }
            return state.holdsCommitsBefore.map { max(.zero, now - $0) }
        }
        guard let measured else {
            announce(
                "lagging", detail: "the replica has not replayed what the primary held \(configuration.maxLag) ago")
            return
        }
        lag.record(measured.seconds)
        if measured <= configuration.maxLag {
            announce(nil, detail: "")
        } else {
            announce("lagging", detail: "the replica lags \(measured), past \(configuration.maxLag)")
        }
    }

    private func unusable(_ kind: String, _ detail: String) {
        state.withLock { state in state.holdsCommitsBefore = nil }
        announce(kind, detail: detail)
    }

    /// Sets the gauge, and logs when where reads go changes (not at every check of a lagging replica).
    private func announce(_ reason: String?, detail: String) {
        let previous = state.withLock { state in
            defer { state.announced = reason }
            return state.announced
        }
        serving.record(reason == nil ? 1 : 0)
        guard previous != reason else { return }
        if reason == nil {
            logger.info(
                "reads that tolerate staleness go to the read replica",
                metadata: ["replica": "\(configuration.redacted)"])
        } else {
            logger.warning(
                "reads that tolerate staleness go to the primary",
                metadata: ["reason": "\(detail)", "replica": "\(configuration.redacted)"])
        }
    }

    /// A `pg_lsn` as text (`16/B374D848`) as one number.
    static func lsn(_ text: String) -> UInt64? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16),
            high <= UInt64(UInt32.max), low <= UInt64(UInt32.max)
        else { return nil }
        return high << 32 | low
    }

    private struct UnreadablePosition: Error {}
}
