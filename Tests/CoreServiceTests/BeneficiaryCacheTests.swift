import AuthAPI
import CoreAPI
import CoreService
import Foundation
import GRPCCore
import Persistence
import SQLKit
import ServerKit
import SwiftProtobuf
import Synchronization
import TestInfrastructure
import TestSupport
import Testing

/// The beneficiary read cache, through the core service's gRPC API, on every database engine and
/// both kinds of shared state (Redis, and the embedded default's memory).
@Suite("Beneficiary read cache")
struct BeneficiaryCacheTests {
    static let combinations = DatabaseEngine.available.flatMap { engine in
        SharedStateBackend.available.map { (engine, $0) }
    }

    static func key(_ id: String, _ view: String) -> String {
        "rahat:core:beneficiary:v1:{\(id)}:\(view)"
    }

    @Test(
        "reads are served from the cache until a change through the service invalidates them",
        arguments: combinations)
    func cachedUntilChanged(engine: DatabaseEngine, backend: SharedStateBackend) async throws {
        try await backend.withCacheStore { store in
            try await ServiceHarness.with(engine, cache: store) { harness in
                // given: a beneficiary read once, so cached
                let admin = ServiceHarness.bearer(try await harness.login().accessToken)
                let created = try await harness.beneficiaries.createBeneficiary(
                    .with { $0.beneficiary = BeneficiaryTests.person("Maya Gurung", phone: "9812000001") },
                    metadata: admin)
                let first = try await harness.beneficiaries.getBeneficiary(
                    .with { $0.id = created.id }, metadata: admin)
                // when: the row changes behind the service's back, then through it
                try await harness.coreDatabase.sql.raw(
                    "UPDATE beneficiaries SET location = 'changed underneath' WHERE id = \(bind: UUID(uuidString: created.id))"
                ).run()
                let cached = try await harness.beneficiaries.getBeneficiary(
                    .with { $0.id = created.id }, metadata: admin)
                _ = try await harness.beneficiaries.updateBeneficiary(
                    .with {
                        $0.id = created.id
                        $0.changes.bankedStatus = "banked"
                        $0.fields = ["bankedStatus"]
                    }, metadata: admin)
                let afterUpdate = try await harness.beneficiaries.getBeneficiary(
                    .with { $0.id = created.id }, metadata: admin)
                _ = try await harness.beneficiaries.archiveBeneficiary(.with { $0.id = created.id }, metadata: admin)
                let afterArchive = await serviceFailure {
                    try await harness.beneficiaries.getBeneficiary(.with { $0.id = created.id }, metadata: admin)
                }
                // then
                #expect(first.location == "")
                #expect(cached.location == "", "the second read must come from the cache")
                #expect(afterUpdate.bankedStatus == "banked")
                #expect(afterUpdate.location == "changed underneath", "the update must drop the cached read")
                #expect(afterArchive?.kind == .notFound)
            }
        }
    }

    @Test(
        "cached entries hold personal data only sealed, and the basic view none at all",
        arguments: SharedStateBackend.available)
    func noPersonalDataInClear(backend: SharedStateBackend) async throws {
        try await backend.withCacheStore { store in
            try await ServiceHarness.with(.sqlite, cache: store) { harness in
                // given
                let adminToken = try await harness.login().accessToken
                let admin = ServiceHarness.bearer(adminToken)
                let analyst = try await harness.createUser(
                    holding: "analyst", permissions: ["beneficiary:read"], as: adminToken)
                let created = try await harness.beneficiaries.createBeneficiary(
                    .with { $0.beneficiary = BeneficiaryTests.person("Laxmi Shrestha", phone: "9812000002") },
                    metadata: admin)
                // when: both views are read
                let full = try await harness.beneficiaries.getBeneficiary(.with { $0.id = created.id }, metadata: admin)
                let basic = try await harness.beneficiaries.getBeneficiary(
                    .with { $0.id = created.id }, metadata: ServiceHarness.bearer(analyst.accessToken))
                // then
                #expect(full.pii.name == "Laxmi Shrestha")
                #expect(!basic.hasPii)
                guard case .hit(let piiEntry) = try await store.lookup(Self.key(created.id, "pii")),
                    case .hit(let basicEntry) = try await store.lookup(Self.key(created.id, "basic"))
                else {
                    Issue.record("both views must be cached after a read")
                    return
                }
                let piiText = String(decoding: piiEntry, as: UTF8.self)
                let basicText = String(decoding: basicEntry, as: UTF8.self)
                let sealedName = try await harness.coreDatabase.sql.raw(
                    "SELECT name_sealed FROM beneficiaries WHERE id = \(bind: UUID(uuidString: created.id))"
                ).first(decoding: SealedName.self)
                #expect(!piiText.contains("Laxmi") && !piiText.contains("9812000002"))
                let piiJSON = try JSONSerialization.jsonObject(with: Data(piiEntry)) as? [String: Any]
                let cachedSeal = (piiJSON?["sealed"] as? [String: Any])?["name"] as? String
                #expect(cachedSeal == sealedName?.name_sealed)
                #expect(!basicText.contains("sealed") && !basicText.contains("Laxmi"))
                // The birth date, place, coordinates and agency fields go with the personal data.
                #expect(piiJSON?["details"] is [String: Any])
                #expect(!basicText.contains("details"))
            }
        }
    }

    @Test(
        "concurrent misses for one beneficiary cause one database read",
        arguments: SharedStateBackend.available)
    func singleFlight(backend: SharedStateBackend) async throws {
        try await backend.withCacheStore { real in
            let store = InstrumentedCacheStore(real, lookupDelay: .milliseconds(500))
            try await ServiceHarness.with(.sqlite, cache: store) { harness in
                // given
                let admin = ServiceHarness.bearer(try await harness.login().accessToken)
                let created = try await harness.beneficiaries.createBeneficiary(
                    .with { $0.beneficiary = BeneficiaryTests.person("Bina Rai", phone: "9812000003") },
                    metadata: admin)
                // when
                let names = try await withThrowingTaskGroup(of: String.self) { group in
                    for _ in 0..<40 {
                        group.addTask {
                            try await harness.beneficiaries.getBeneficiary(
                                .with { $0.id = created.id }, metadata: admin
                            )
                            .pii.name
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                // then
                #expect(names == Array(repeating: "Bina Rai", count: 40))
                // A request arriving after the shared read finished finds the entry: a hit, no read.
                #expect(store.misses == 1)
                #expect(store.fills == 1)
                #expect(store.lookups < 40)
            }
        }
    }

    @Test(
        "a read that loaded the old row before an update cannot cache it afterwards",
        arguments: SharedStateBackend.available)
    func staleFillRejected(backend: SharedStateBackend) async throws {
        try await backend.withCacheStore { real in
            let store = InstrumentedCacheStore(real, holdFills: true)
            try await ServiceHarness.with(.sqlite, cache: store) { harness in
                // given: a reader has loaded the row and is about to fill the cache
                let admin = ServiceHarness.bearer(try await harness.login().accessToken)
                let created = try await harness.beneficiaries.createBeneficiary(
                    .with { $0.beneficiary = BeneficiaryTests.person("Sabina Magar", phone: "9812000004") },
                    metadata: admin)
                let slowReader = Task {
                    try await harness.beneficiaries.getBeneficiary(.with { $0.id = created.id }, metadata: admin)
                }
                try await store.waitForHeldFill()
                // when: an update commits, then the reader's fill goes ahead
                _ = try await harness.beneficiaries.updateBeneficiary(
                    .with {
                        $0.id = created.id
                        $0.changes.internetStatus = "home_internet"
                        $0.fields = ["internetStatus"]
                    }, metadata: admin)
                store.releaseFills()
                let old = try await slowReader.value
                let next = try await harness.beneficiaries.getBeneficiary(.with { $0.id = created.id }, metadata: admin)
                // then
                #expect(old.internetStatus != "home_internet")
                #expect(store.rejectedFills == 1)
                #expect(next.internetStatus == "home_internet")
            }
        }
    }

    @Test(
        "an entry in another release's shape is read through, and a change drops it",
        arguments: SharedStateBackend.available)
    func otherShapeReadThrough(backend: SharedStateBackend) async throws {
        try await backend.withCacheStore { store in
            try await ServiceHarness.with(.sqlite, cache: store) { harness in
                // given: the entry an admin reads holds what the previous release wrote (fields at
                // the top level), saying the person is banked
                let admin = ServiceHarness.bearer(try await harness.login().accessToken)
                let created = try await harness.beneficiaries.createBeneficiary(
                    .with { $0.beneficiary = BeneficiaryTests.person("Gita Tamang", phone: "9812000005") },
                    metadata: admin)
                let key = Self.key(created.id, "pii")
                let earlier = """
                    {"id":"\(created.id)","gender":"female","bankedStatus":"banked","internetStatus":"no_internet",\
                    "phoneStatus":"feature_phone","verificationStatus":"pending","extras":"{}",\
                    "createdAt":0,"updatedAt":0}
                    """
                try await store.invalidate([key])
                guard case .miss(let lease?) = try await store.lookup(key) else {
                    Issue.record("an absent entry must be a miss with a lease")
                    return
                }
                #expect(try await store.fill(key, value: Array(earlier.utf8), ttl: .seconds(60), lease: lease))
                // when
                let read = try await harness.beneficiaries.getBeneficiary(.with { $0.id = created.id }, metadata: admin)
                _ = try await harness.beneficiaries.updateBeneficiary(
                    .with {
                        $0.id = created.id
                        $0.changes.internetStatus = "home_internet"
                        $0.fields = ["internetStatus"]
                    }, metadata: admin)
                let afterChange = try await store.lookup(key)
                // then: the answer is the row's, and the change dropped the entry
                #expect(read.pii.name == "Gita Tamang")
                #expect(read.bankedStatus != "banked")
                guard case .miss = afterChange else {
                    Issue.record("a change must drop the entry, whatever its shape")
                    return
                }
            }
        }
    }

    @Test("with the TTL at zero nothing is cached")
    func disabled() async throws {
        let store = InstrumentedCacheStore(InMemoryCacheStore())
        try await ServiceHarness.with(.sqlite, configureCore: { $0.beneficiaryCacheTTL = .zero }, cache: store) {
            harness in
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let created = try await harness.beneficiaries.createBeneficiary(
                .with { $0.beneficiary = BeneficiaryTests.person("Rita Thapa") }, metadata: admin)
            for _ in 0..<3 {
                _ = try await harness.beneficiaries.getBeneficiary(.with { $0.id = created.id }, metadata: admin)
            }
            #expect(store.lookups == 0)
        }
    }
}

private struct SealedName: Decodable {
    var name_sealed: String
}

/// A real store with counters, and switches to slow it down or hold its fills, so tests can line
/// up the races a cache must survive.
final class InstrumentedCacheStore: CacheStore {
    private struct State {
        var lookups = 0
        var misses = 0
        var fills = 0
        var rejectedFills = 0
        var heldFills: [CheckedContinuation<Void, Never>] = []
        var holding: Bool
    }

    private let base: any CacheStore
    private let lookupDelay: Duration
    private let state: Mutex<State>

    init(_ base: any CacheStore, lookupDelay: Duration = .zero, holdFills: Bool = false) {
        self.base = base
        self.lookupDelay = lookupDelay
        self.state = Mutex(State(holding: holdFills))
    }

    var lookups: Int { state.withLock { $0.lookups } }
    /// Lookups that found nothing: each is followed by one database read.
    var misses: Int { state.withLock { $0.misses } }
    var fills: Int { state.withLock { $0.fills } }
    var rejectedFills: Int { state.withLock { $0.rejectedFills } }

    func lookup(_ key: String) async throws -> CacheLookup {
        state.withLock { $0.lookups += 1 }
        if lookupDelay > .zero { try await Task.sleep(for: lookupDelay) }
        let found = try await base.lookup(key)
        if case .miss = found { state.withLock { $0.misses += 1 } }
        return found
    }

    func fill(_ key: String, value: [UInt8], ttl: Duration, lease: CacheLease) async throws -> Bool {
        await withCheckedContinuation { continuation in
            let proceed = state.withLock { state in
                guard state.holding else { return true }
                state.heldFills.append(continuation)
                return false
            }
            if proceed { continuation.resume() }
        }
        let stored = try await base.fill(key, value: value, ttl: ttl, lease: lease)
        state.withLock { state in
            state.fills += 1
            if !stored { state.rejectedFills += 1 }
        }
        return stored
    }

    func invalidate(_ keys: [String]) async throws {
        try await base.invalidate(keys)
    }

    /// Returns once a fill is being held.
    func waitForHeldFill() async throws {
        for _ in 0..<1000 {
            if state.withLock({ !$0.heldFills.isEmpty }) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("no fill arrived")
    }

    /// Lets held fills, and all later ones, through.
    func releaseFills() {
        let held = state.withLock { state in
            state.holding = false
            defer { state.heldFills = [] }
            return state.heldFills
        }
        for continuation in held { continuation.resume() }
    }
}
