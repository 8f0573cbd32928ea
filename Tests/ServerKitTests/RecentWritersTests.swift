import Foundation
import ServerKit
import TestInfrastructure
import Testing

@Suite("Recent writers")
struct RecentWritersTests {
    @Test(
        "a caller who wrote is remembered for its window and then forgotten; others never were",
        arguments: SharedStateBackend.available)
    func window(backend: SharedStateBackend) async throws {
        try await backend.withRecentWriters { writers in
            // given
            let writer = "user:\(UUID().uuidString.lowercased())"
            let reader = "key:\(UUID().uuidString.lowercased())"
            // when
            try await writers.record(writer, for: .milliseconds(300))
            let during = try await writers.contains(writer)
            let bystander = try await writers.contains(reader)
            try await Task.sleep(for: .milliseconds(450))
            let after = try await writers.contains(writer)
            // then
            #expect(during)
            #expect(!bystander)
            #expect(!after)
        }
    }

    @Test("a second write extends the window", arguments: SharedStateBackend.available)
    func extended(backend: SharedStateBackend) async throws {
        try await backend.withRecentWriters { writers in
            // given
            let writer = "user:\(UUID().uuidString.lowercased())"
            try await writers.record(writer, for: .milliseconds(300))
            // when
            try await Task.sleep(for: .milliseconds(200))
            try await writers.record(writer, for: .milliseconds(600))
            try await Task.sleep(for: .milliseconds(250))
            let extendedPastFirst = try await writers.contains(writer)
            // then
            #expect(extendedPastFirst)
        }
    }
}
