import Dispatch
import Foundation
import GRPCCore
import ServerKit
import Testing

@Suite("Configuration")
struct ConfigurationSourceTests {
    @Test("reports every problem at once")
    func allProblems() {
        // given
        var source = ConfigurationSource(environment: [
            "RAHAT_HTTP_PORT": "eighty",
            "RAHAT_FLAG": "maybe",
            "RAHAT_LOG_LEVEL": "loud",
        ])
        // when
        _ = source.int("RAHAT_HTTP_PORT", default: 8080, in: 0...65_535)
        _ = source.bool("RAHAT_FLAG", default: false)
        _ = LogConfiguration(from: &source)
        // then
        #expect(throws: ConfigurationError.self) { try source.validate() }
        #expect(source.problems.count == 3)
        #expect(source.problems.contains { $0.hasPrefix("RAHAT_HTTP_PORT") })
        #expect(source.problems.contains { $0.hasPrefix("RAHAT_LOG_LEVEL") })
    }

    @Test("reads typed values and defaults")
    func values() throws {
        var source = ConfigurationSource(environment: ["RAHAT_HTTP_PORT": "9090", "RAHAT_FLAG": "yes"])
        let port = source.int("RAHAT_HTTP_PORT", default: 8080, in: 0...65_535)
        let other = source.int("RAHAT_OTHER", default: 7, in: 0...10)
        let flag = source.bool("RAHAT_FLAG", default: false)
        #expect(port == 9090)
        #expect(other == 7)
        #expect(flag)
        try source.validate()
    }

    @Test("reads a secret from its _FILE variant, trimming the trailing newline")
    func secretFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID())").path
        try "s3cret\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var source = ConfigurationSource(environment: ["RAHAT_ADMIN_PASSWORD_FILE": path])
        let secret = source.secret("RAHAT_ADMIN_PASSWORD")
        #expect(secret == "s3cret")
        try source.validate()
    }

    @Test("a secret set both ways, or from a missing file, is a problem")
    func secretConflicts() {
        var both = ConfigurationSource(environment: ["X": "a", "X_FILE": "/etc/hostname"])
        _ = both.secret("X")
        #expect(both.problems.count == 1)
        var missing = ConfigurationSource(environment: ["X_FILE": "/nonexistent/secret"])
        let secret = missing.secret("X")
        #expect(secret == nil)
        #expect(missing.problems.count == 1)
    }

    @Test("reads an env-format file named by RAHAT_CONFIG_FILE; the environment wins")
    func configFile() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rahat-\(UUID()).env").path
        try "RAHAT_HTTP_PORT=7000\nRAHAT_HTTP_HOST=0.0.0.0\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var source = try await ConfigurationSource.load(environment: [
            "RAHAT_CONFIG_FILE": path, "RAHAT_HTTP_PORT": "7001",
        ])
        let port = source.int("RAHAT_HTTP_PORT", default: 1, in: 0...65_535)
        #expect(port == 7001)
        #expect(source.string("RAHAT_HTTP_HOST", default: "127.0.0.1") == "0.0.0.0")
    }
}

@Suite("Service errors")
struct ServiceErrorTests {
    @Test("survive a trip through RPCError with reason, violations and retry-after")
    func roundTrip() {
        // given
        let original = ServiceError(
            .resourceExhausted,
            reason: "auth.too_many_attempts",
            message: "slow down",
            violations: [FieldViolation(field: "email", reason: "is odd")],
            retryAfterSeconds: 42
        )
        // when
        let decoded = ServiceError(RPCError(original))
        // then
        #expect(decoded == original)
    }

    @Test("transport failures without a reason become unavailable")
    func transportFailure() {
        let decoded = ServiceError(RPCError(code: .unavailable, message: "connection refused"))
        #expect(decoded.kind == .unavailable)
        #expect(decoded.reason == "upstream.unavailable")
    }
}

@Suite("Readiness")
struct ReadinessTests {
    @Test("a hung check reads as down within the timeout")
    func timeout() async {
        let readiness = Readiness(
            checks: [
                ReadinessCheck(name: "fast") {},
                ReadinessCheck(name: "hung") { try await Task.sleep(for: .seconds(30)) },
            ],
            timeout: .milliseconds(200)
        )
        let started = ContinuousClock.now
        let report = await readiness.run()
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(!report.isReady)
        #expect(report.entries.map(\.name) == ["fast", "hung"])
        #expect(report.entries.map(\.isUp) == [true, false])
    }

    @Test("a probe that ignores cancellation does not hold the report past the timeout")
    func uncooperativeProbe() async {
        let readiness = Readiness(
            checks: [
                ReadinessCheck(name: "stubborn") {
                    // Waits ten seconds and ignores cancellation, without occupying a thread.
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        DispatchQueue.global().asyncAfter(deadline: .now() + 10) { continuation.resume() }
                    }
                }
            ],
            timeout: .milliseconds(200)
        )
        let started = ContinuousClock.now
        let report = await readiness.run()
        // Far below the probe's ten seconds, with room for a loaded CI machine.
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(!report.isReady)
    }
}
