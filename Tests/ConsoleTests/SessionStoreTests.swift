import Foundation
import ServerKit
import TestInfrastructure
import Testing

extension ConsoleTests {
    /// Where sessions live: Redis, shared by every gateway, or one process's memory.
    @Suite("Session stores")
    struct SessionStores {
        @Test("a session is saved, read, renewed, forgotten and expires", arguments: SharedStateBackend.available)
        func lifecycle(backend: SharedStateBackend) async throws {
            try await backend.withSessionStore { store in
                // given
                let value = Array("{\"user\":\"sita\"}".utf8)
                try await store.save("a", value: value, ttl: .seconds(60))
                try await store.save("short", value: [1, 2, 3], ttl: .milliseconds(300))
                // when
                let read = try await store.load("a")
                let unknown = try await store.load("nobody")
                try await store.save("a", value: [9], ttl: .seconds(60))
                let replaced = try await store.load("a")
                try await store.remove("a")
                let removed = try await store.load("a")
                try await store.remove("never-there")
                try await Task.sleep(for: .milliseconds(700))
                let expired = try await store.load("short")
                // then
                #expect(read == value)
                #expect(unknown == nil)
                #expect(replaced == [9])
                #expect(removed == nil)
                #expect(expired == nil)
            }
        }
    }
}
