import Foundation
import ServerKit
import TestInfrastructure
import Testing

@Suite("Rate limiting")
struct RateLimiterTests {
    @Test("GCRA allows a burst of the limit, then spaces requests by the emission interval")
    func gcraArithmetic() {
        // 10 per second: emission interval 100 ms.
        let limit = RateLimit(10, per: .seconds(1))
        var tat: Int64?
        let now: Int64 = 5_000_000
        for expectedRemaining in (0..<10).reversed() {
            let outcome = GCRA.evaluate(tat: tat, now: now, limit: limit, cost: 1)
            #expect(outcome.decision.allowed)
            #expect(outcome.decision.remaining == expectedRemaining)
            tat = outcome.newTAT
        }
        let refused = GCRA.evaluate(tat: tat, now: now, limit: limit, cost: 1)
        #expect(!refused.decision.allowed)
        #expect(refused.decision.remaining == 0)
        #expect(refused.decision.retryAfter == .milliseconds(100))
        #expect(refused.decision.resetAfter == .seconds(1))
        #expect(refused.newTAT == nil)

        // 100 ms later exactly one more fits.
        let later = GCRA.evaluate(tat: tat, now: now + 100_000, limit: limit, cost: 1)
        #expect(later.decision.allowed)
        #expect(later.decision.remaining == 0)
        // A refund gives one back; a look charges nothing.
        let refunded = GCRA.evaluate(tat: later.newTAT, now: now + 100_000, limit: limit, cost: -1)
        #expect(refunded.decision.remaining == 1)
        let look = GCRA.evaluate(tat: refunded.newTAT, now: now + 100_000, limit: limit, cost: 0)
        #expect(look.newTAT == nil)
        #expect(look.decision.remaining == 1)
    }

    @Test(
        "limits parse from N/period and print back",
        arguments: [
            ("600/1m", RateLimit(600, per: .seconds(60))), ("10/5m", RateLimit(10, per: .seconds(300))),
            ("5/s", RateLimit(5, per: .seconds(1))), ("100/250ms", RateLimit(100, per: .milliseconds(250))),
            ("1000/1h", RateLimit(1000, per: .seconds(3600))),
        ])
    func parsing(text: String, expected: RateLimit) {
        #expect(RateLimit(parsing: text) == expected)
        #expect(RateLimit(parsing: expected.description) == expected)
    }

    @Test("malformed limits are refused", arguments: ["", "10", "0/1m", "-1/1m", "10/0s", "10/1d", "ten/1m", "10/m1"])
    func malformed(text: String) {
        #expect(RateLimit(parsing: text) == nil)
    }

    @Test(
        "a limiter allows the burst, refuses the next with a retry time, and keys are independent",
        arguments: SharedStateBackend.available)
    func burstAndRefusal(backend: SharedStateBackend) async throws {
        try await backend.withRateLimiter { limiter in
            // An hour-long window: the time the checks themselves take on a loaded machine is noise.
            let key = "test:\(UUID().uuidString)"
            let limit = RateLimit(5, per: .seconds(3600))
            for expected in (0..<5).reversed() {
                let decision = try await limiter.check(key, limit: limit, cost: 1)
                #expect(decision.allowed)
                #expect(decision.remaining == expected)
                #expect(decision.limit == 5)
            }
            let refused = try await limiter.check(key, limit: limit, cost: 1)
            #expect(!refused.allowed)
            #expect(refused.remaining == 0)
            // One request frees up every 12 minutes.
            #expect(refused.retryAfter > .seconds(660) && refused.retryAfter <= .seconds(720))
            #expect(refused.resetAfter > .seconds(3540) && refused.resetAfter <= .seconds(3600))

            let other = try await limiter.check(key + ":other", limit: limit, cost: 1)
            #expect(other.allowed && other.remaining == 4)
        }
    }

    @Test("capacity comes back with time and refunds", arguments: SharedStateBackend.available)
    func replenish(backend: SharedStateBackend) async throws {
        try await backend.withRateLimiter { limiter in
            // given: an allowance used up, in a window long enough not to refill during the test
            let key = "test:\(UUID().uuidString)"
            let hourly = RateLimit(4, per: .seconds(3600))
            for _ in 0..<4 { #expect(try await limiter.check(key, limit: hourly, cost: 1).allowed) }
            #expect(try await !limiter.check(key, limit: hourly, cost: 1).allowed)
            // when / then: a refund makes room for exactly one more
            let refunded = try await limiter.check(key, limit: hourly, cost: -1)
            #expect(refunded.allowed && refunded.remaining == 1)
            #expect(try await limiter.check(key, limit: hourly, cost: 1).allowed)
            #expect(try await !limiter.check(key, limit: hourly, cost: 1).allowed)

            // and a short window refills completely once it has passed
            let brief = RateLimit(2, per: .milliseconds(300))
            let shortKey = key + ":brief"
            _ = try await limiter.check(shortKey, limit: brief, cost: 1)
            _ = try await limiter.check(shortKey, limit: brief, cost: 1)
            try await Task.sleep(for: .milliseconds(350))
            let afterWindow = try await limiter.check(shortKey, limit: brief, cost: 1)
            #expect(afterWindow.allowed)
            #expect(afterWindow.remaining == 1)
        }
    }

    @Test("concurrent checks never allow more than the limit", arguments: SharedStateBackend.available)
    func concurrentChecks(backend: SharedStateBackend) async throws {
        try await backend.withRateLimiter { limiter in
            let key = "test:\(UUID().uuidString)"
            let limit = RateLimit(25, per: .seconds(3600))
            let allowed = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<100 { group.addTask { try await limiter.check(key, limit: limit, cost: 1).allowed } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(allowed == 25)
        }
    }

    @Test("the in-process limiter forgets keys whose window has passed")
    func sweep() async throws {
        let limiter = InMemoryRateLimiter(sweepThreshold: 50)
        let limit = RateLimit(1, per: .milliseconds(20))
        for index in 0..<60 { _ = try await limiter.check("k\(index)", limit: limit, cost: 1) }
        try await Task.sleep(for: .milliseconds(60))
        for index in 0..<10 { _ = try await limiter.check("fresh\(index)", limit: limit, cost: 1) }
        #expect(limiter.trackedKeys <= 10)
    }
}
