/// What a cache lookup found.
package enum CacheLookup: Sendable, Equatable {
    /// The cached bytes.
    case hit([UInt8])
    /// Nothing cached. With a lease, this caller may fill the entry unless it is invalidated
    /// first; without, another reader holds the lease and will fill it, so this one only reads.
    case miss(CacheLease?)
}

/// Permission to fill one key, revoked by any invalidation of that key (memcached-style leases):
/// a reader that loaded a row before a writer committed cannot put the old row back afterwards.
package struct CacheLease: Sendable, Hashable {
    /// Random, so two readers' leases never match.
    package let token: String

    /// A lease with a fresh random token.
    package static func make() -> CacheLease {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        return CacheLease(token: String(high, radix: 36) + "." + String(low, radix: 36))
    }

    /// How long a lease stays valid: a fill slower than this is dropped, costing a later miss.
    package static let lifetime: Duration = .seconds(10)
}

/// A cache whose fills cannot undo an invalidation: Redis when several processes share data, in
/// memory when one process holds everything.
package protocol CacheStore: Sendable {
    /// The cached value of `key`, or else a lease to fill it unless another reader holds one.
    func lookup(_ key: String) async throws -> CacheLookup

    /// Stores `value` for `ttl` if `lease` is still the key's current lease; `false` when an
    /// invalidation (or a newer reader) took it away, and the value was not stored.
    func fill(_ key: String, value: [UInt8], ttl: Duration, lease: CacheLease) async throws -> Bool

    /// Drops the values of `keys` and revokes their outstanding leases.
    func invalidate(_ keys: [String]) async throws
}
