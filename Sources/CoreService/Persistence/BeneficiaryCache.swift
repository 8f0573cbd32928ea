import FluentKit
import Foundation
import Logging
import MetricCatalog
import Metrics
import ServerKit
import SharedModels

/// A beneficiary as stored, personal data still sealed by the ``PIIVault``: what the read cache
/// holds. The `pii` view keeps the sealed fields and the personal details, the `basic` view
/// leaves them out, so a value in the cache never contains personal data in clear and a reader
/// without the PII permission never receives even the ciphertext.
@dynamicMemberLookup
struct BeneficiaryRecord: Codable, Sendable, Equatable {
    struct Sealed: Codable, Sendable, Equatable {
        var name: String
        var phone: String?
        var email: String?
        var nationalID: String?
    }

    var id: UUID
    var sealed: Sealed?
    var profile: BeneficiaryProfile
    var details: BeneficiaryDetails?

    init(_ row: BeneficiaryRow, view: BeneficiaryCache.View) throws {
        id = try row.requireID()
        profile = BeneficiaryProfile(
            gender: row.gender, bankedStatus: row.bankedStatus, internetStatus: row.internetStatus,
            phoneStatus: row.phoneStatus, walletAddress: row.walletAddress, verificationStatus: row.verificationStatus,
            verificationReason: row.verificationReason, createdAt: row.createdAt, updatedAt: row.updatedAt,
            archivedAt: row.archivedAt, phoneChangedAt: row.phoneChangedAt)
        guard view == .pii else { return }
        sealed = Sealed(
            name: row.nameSealed, phone: row.phoneSealed, email: row.emailSealed, nationalID: row.nationalIDSealed)
        details = BeneficiaryDetails(
            birthDate: row.birthDate, location: row.location, latitude: row.latitude, longitude: row.longitude,
            extrasJSON: row.extras)
    }

    subscript<Value>(dynamicMember field: KeyPath<BeneficiaryProfile, Value>) -> Value {
        profile[keyPath: field]
    }
}

/// Cache-aside for beneficiary detail reads, the hottest read: one entry per beneficiary and view,
/// filled under a lease and invalidated by ``CoreDomain/changeBeneficiaries(_:_:)`` right after
/// the change commits. A cache that fails costs speed, never an answer: reads fall back to the
/// database and count the fallback.
struct BeneficiaryCache: Sendable {
    /// What a reader may see, and so which entry it reads.
    enum View: String, Sendable, CaseIterable {
        case basic, pii
    }

    /// `nil` when caching is off (no TTL, or several processes without a shared cache).
    let store: (any CacheStore)?
    let ttl: Duration
    let logger: Logger
    private let flights = SingleFlight<String, BeneficiaryRecord?>()
    private let warnings = LogThrottle(interval: .seconds(10))

    private static let hits = CoreServiceMetrics.cacheRequests.counter("beneficiary", "hit")
    private static let misses = CoreServiceMetrics.cacheRequests.counter("beneficiary", "miss")
    private static let fallbacks = CoreServiceMetrics.cacheFallbacks.counter("beneficiary")
    private static let invalidationFailures = CoreServiceMetrics.cacheInvalidationFailures.counter("beneficiary")

    init(store: (any CacheStore)?, ttl: Duration, logger: Logger) {
        self.store = ttl > .zero ? store : nil
        self.ttl = ttl
        self.logger = logger
    }

    /// The key of one entry. The id sits in `{…}` so a value and its lease share a Redis Cluster
    /// slot. A change of the record's shape keeps the key: while two releases share Redis, each must
    /// drop the other's entries when a beneficiary changes, and each reads the other's entries as
    /// unreadable and goes to the database.
    static func key(_ id: UUID, _ view: View) -> String {
        "rahat:core:beneficiary:v1:{\(id.lowercasedString)}:\(view.rawValue)"
    }

    /// The record of `id` in `view`, from the cache or else from `load` (which answers `nil` when
    /// there is no such live beneficiary; absence is not cached). Concurrent misses for one entry
    /// in this process share one `load`.
    func record(
        _ id: UUID, view: View, load: @escaping @Sendable () async throws -> BeneficiaryRecord?
    ) async throws -> BeneficiaryRecord? {
        guard let store else { return try await load() }
        let key = Self.key(id, view)
        return try await flights.run(key) { [ttl] in
            var lease: CacheLease?
            do {
                switch try await store.lookup(key) {
                case .hit(let bytes):
                    if let record = try? JSONDecoder().decode(BeneficiaryRecord.self, from: Data(bytes)) {
                        Self.hits.increment()
                        return record
                    }
                    // Unreadable (written by another version): read through; the next change replaces it.
                    if warnings.shouldLog() {
                        logger.warning("unreadable beneficiary cache entry", metadata: ["key": "\(key)"])
                    }
                case .miss(let granted):
                    lease = granted
                }
            } catch {
                fallBack(error, doing: "lookup")
                return try await load()
            }
            Self.misses.increment()
            let record = try await load()
            if let record, let lease {
                do {
                    _ = try await store.fill(
                        key, value: Array(try JSONEncoder().encode(record)), ttl: ttl, lease: lease)
                } catch {
                    fallBack(error, doing: "fill")
                }
            }
            return record
        }
    }

    /// Drops every cached view of `ids`. Never throws: the change it follows has committed, and
    /// a failed invalidation is logged and counted (its entries then live at most the TTL). Runs
    /// in its own task, so a caller cancelled after its commit (a deadline, a client gone) still
    /// invalidates.
    func invalidate(_ ids: [UUID]) async {
        guard store != nil, !ids.isEmpty else { return }
        await Task { await dropEntries(ids) }.value
    }

    private func dropEntries(_ ids: [UUID]) async {
        guard let store else { return }
        let keys = ids.flatMap { id in View.allCases.map { Self.key(id, $0) } }
        do {
            try await store.invalidate(keys)
        } catch {
            Self.invalidationFailures.increment()
            logger.error(
                "beneficiary cache invalidation failed; entries expire within the TTL",
                metadata: ["error": "\(error)", "ttl": "\(ttl)", "beneficiaries": "\(ids.count)"])
        }
        // Readers arriving from now on must not join a read that may predate the change.
        for key in keys { flights.forget(key) }
    }

    private func fallBack(_ error: any Error, doing operation: String) {
        Self.fallbacks.increment()
        if warnings.shouldLog() {
            logger.warning(
                "beneficiary cache unavailable; reading from the database",
                metadata: ["operation": "\(operation)", "error": "\(error)"])
        }
    }
}
