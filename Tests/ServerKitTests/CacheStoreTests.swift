import Foundation
import ServerKit
import Synchronization
import TestInfrastructure
import Testing

@Suite("Cache store")
struct CacheStoreTests {
    @Test("a miss grants a lease, the fill is then a hit", arguments: SharedStateBackend.available)
    func missThenFill(backend: SharedStateBackend) async throws {
        try await backend.withCacheStore { store in
            // given
            let key = "rahat:test:{\(UUID().uuidString)}:v"
            guard case .miss(let lease?) = try await store.lookup(key) else {
                Issue.record("a fresh key must miss")
                return
            }
            // when
            let stored = try await store.fill(key, value: Array("hello".utf8), ttl: .seconds(30), lease: lease)
            // then
            #expect(stored)
            #expect(try await store.lookup(key) == .hit(Array("hello".utf8)))
        }
    }

    @Test("an invalidation between miss and fill keeps the old read out", arguments: SharedStateBackend.available)
    func invalidationRevokesLease(backend: SharedStateBackend) async throws {
        try await backend.withCacheStore { store in
            // given: a reader missed and is loading the old value
            let key = "rahat:test:{\(UUID().uuidString)}:v"
            guard case .miss(let lease?) = try await store.lookup(key) else {
                Issue.record("a fresh key must miss")
                return
            }
            // when: a writer commits and invalidates before the reader fills
            try await store.invalidate([key])
            let stored = try await store.fill(key, value: Array("old".utf8), ttl: .seconds(30), lease: lease)
            // then
            #expect(!stored)
            guard case .miss = try await store.lookup(key) else {
                Issue.record("the stale fill must not be cached")
                return
            }
        }
    }

    @Test(
        "one reader holds the lease at a time; others read without filling; invalidation frees it",
        arguments: SharedStateBackend.available)
    func oneLeaseAtATime(backend: SharedStateBackend) async throws {
        try await backend.withCacheStore { store in
            let key = "rahat:test:{\(UUID().uuidString)}:v"
            guard case .miss(let first?) = try await store.lookup(key) else { return #expect(Bool(false)) }
            guard case .miss(let second) = try await store.lookup(key) else { return #expect(Bool(false)) }
            #expect(second == nil, "a held lease is not replaced")
            #expect(try await store.fill(key, value: [1], ttl: .seconds(30), lease: first))
            #expect(try await store.fill(key, value: [3], ttl: .seconds(30), lease: first) == false)
            #expect(try await store.lookup(key) == .hit([1]))

            try await store.invalidate([key, "rahat:test:{absent}:v"])
            guard case .miss(let afterInvalidation?) = try await store.lookup(key) else {
                return #expect(Bool(false))
            }
            // A lease revoked by invalidation is free for the next reader straight away.
            try await store.invalidate([key])
            guard case .miss(let next?) = try await store.lookup(key) else { return #expect(Bool(false)) }
            #expect(try await store.fill(key, value: [2], ttl: .seconds(30), lease: afterInvalidation) == false)
            #expect(try await store.fill(key, value: [2], ttl: .seconds(30), lease: next))
            #expect(try await store.lookup(key) == .hit([2]))
        }
    }

    @Test("refilling one key many times keeps the in-process store's bookkeeping bounded")
    func refillsStayBounded() async throws {
        let store = InMemoryCacheStore(maxEntries: 10)
        for round in 0..<5000 {
            let key = "k\(round % 3)"
            try await store.invalidate([key])
            guard case .miss(let lease?) = try await store.lookup(key) else { return #expect(Bool(false)) }
            #expect(try await store.fill(key, value: [UInt8(round % 256)], ttl: .seconds(60), lease: lease))
        }
        #expect(store.count == 3)
        #expect(store.fillOrderLength <= 2048)
        #expect(try await store.lookup("k2") == .hit([UInt8(4997 % 256)]))
    }

    @Test("values expire after their TTL", arguments: SharedStateBackend.available)
    func expiry(backend: SharedStateBackend) async throws {
        try await backend.withCacheStore { store in
            let key = "rahat:test:{\(UUID().uuidString)}:v"
            guard case .miss(let lease?) = try await store.lookup(key) else { return #expect(Bool(false)) }
            #expect(try await store.fill(key, value: [7], ttl: .seconds(1), lease: lease))
            #expect(try await store.lookup(key) == .hit([7]))
            try await Task.sleep(for: .milliseconds(1300))
            guard case .miss = try await store.lookup(key) else { return #expect(Bool(false)) }
        }
    }

    @Test("binary values of a megabyte round-trip", arguments: SharedStateBackend.available)
    func largeBinaryValue(backend: SharedStateBackend) async throws {
        try await backend.withCacheStore { store in
            let key = "rahat:test:{\(UUID().uuidString)}:v"
            let value = (0..<1_048_576).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            guard case .miss(let lease?) = try await store.lookup(key) else { return #expect(Bool(false)) }
            #expect(try await store.fill(key, value: value, ttl: .seconds(30), lease: lease))
            #expect(try await store.lookup(key) == .hit(value))
        }
    }

    @Test("the in-process store stays within its bound, dropping the oldest fills")
    func memoryBound() async throws {
        let store = InMemoryCacheStore(maxEntries: 100)
        for index in 0..<250 {
            guard case .miss(let lease?) = try await store.lookup("k\(index)") else { return #expect(Bool(false)) }
            #expect(try await store.fill("k\(index)", value: [UInt8(index % 256)], ttl: .seconds(60), lease: lease))
        }
        #expect(store.count == 100)
        #expect(try await store.lookup("k249") == .hit([249]))
        guard case .miss = try await store.lookup("k0") else { return #expect(Bool(false)) }
    }
}

@Suite("Single flight")
struct SingleFlightTests {
    @Test("concurrent calls for one key run the work once and all get its result")
    func collapses() async throws {
        // given
        let flights = SingleFlight<String, Int>()
        let runs = RunCounter()
        let gate = AsyncGate()
        // when
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await flights.run("k") {
                        runs.value.add(1, ordering: .relaxed)
                        await gate.wait()
                        return 42
                    }
                }
            }
            while flights.inFlight == 0 { await Task.yield() }
            try await Task.sleep(for: .milliseconds(50))
            gate.open()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        // then
        #expect(results == Array(repeating: 42, count: 50))
        #expect(runs.value.load(ordering: .relaxed) == 1)
        #expect(flights.inFlight == 0)
    }

    @Test("after forget, a new caller starts its own work instead of joining the old")
    func forgetStartsAfresh() async throws {
        let flights = SingleFlight<String, String>()
        let gate = AsyncGate()
        let old = Task {
            try await flights.run("k") {
                await gate.wait(); return "old"
            }
        }
        while flights.inFlight == 0 { await Task.yield() }
        flights.forget("k")
        let fresh = try await flights.run("k") { "new" }
        gate.open()
        #expect(fresh == "new")
        #expect(try await old.value == "old")
    }

    @Test("an error reaches every waiter, and the next call runs again")
    func errorsShared() async throws {
        let flights = SingleFlight<Int, Int>()
        await #expect(throws: Boom.self) { try await flights.run(1) { throw Boom() } }
        #expect(try await flights.run(1) { 5 } == 5)
    }
}

private struct Boom: Error {}

private final class RunCounter: Sendable {
    let value = Atomic<Int>(0)
}

/// A one-shot gate tasks can wait on.
final class AsyncGate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
