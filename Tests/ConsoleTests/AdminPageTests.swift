import Foundation
import HTTPTypes
import HummingbirdTesting
import TestInfrastructure
import TestSupport
import Testing

extension ConsoleTests {
    /// Users and API keys.
    @Suite("Administration")
    struct Administration {
        @Test("an API key is shown once, works with what was chosen, and stops when revoked")
        func apiKeys() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let browser = Browser(client)
                try await browser.signIn()
                _ = try await browser.get("/console/api-keys")
                // when
                let none = try await browser.post("/console/api-keys", [("name", "registry sync")])
                let created = try await browser.post(
                    "/console/api-keys", [("name", "registry sync"), ("permissions", "user:read")])
                let key = try #require(
                    created.html.range(
                        of: #"id="new-key" type="text" readonly value="[^"]+""#, options: .regularExpression
                    )
                    .map { String(created.html[$0]).split(separator: "\"").last.map(String.init) ?? "" }, "\(created)")
                let listed = try await browser.get("/console/api-keys")
                let works = try await client.send(.get, "/v1/users", headers: [HTTPField.Name("X-API-Key")!: key])
                let beyond = try await client.send(.get, "/v1/projects", headers: [HTTPField.Name("X-API-Key")!: key])
                let id = try #require(
                    listed.html.range(of: #"/console/api-keys/[0-9a-f-]{36}/revoke"#, options: .regularExpression)
                        .map { String(listed.html[$0]).split(separator: "/")[2] })
                let revoked = try await browser.follow(try await browser.post("/console/api-keys/\(id)/revoke"))
                var after = try await client.send(.get, "/v1/users", headers: [HTTPField.Name("X-API-Key")!: key])
                for _ in 0..<40 where after.status == .ok {
                    try await Task.sleep(for: .milliseconds(250))
                    after = try await client.send(.get, "/v1/users", headers: [HTTPField.Name("X-API-Key")!: key])
                }
                // then
                #expect(none.status == .badRequest)
                #expect(none.mainText.contains("Choose at least one permission."))
                #expect(created.mainText.contains("it is shown only this once"))
                #expect(created.headers[.cacheControl] == "no-store")
                #expect(!listed.html.contains(key), "the secret is never shown again")
                #expect(listed.mainText.contains("registry sync"))
                #expect(works.status == .ok, "\(works)")
                #expect(beyond.status == .forbidden, "the key holds only what was chosen: \(beyond)")
                #expect(revoked.mainText.contains("The key is revoked."))
                #expect(after.status == .unauthorized)
            }
        }

        @Test("an administrator disables a user, whose session ends, and enables them again")
        func disableUser() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let admin = try await client.login()
                let user = try await client.createUser("field@example.org", role: "field_agent", bearer: admin.access)
                let field = Browser(client)
                try await field.signIn("field@example.org", type(of: client).scenarioPassword)
                let browser = Browser(client)
                try await browser.signIn()
                let users = try await browser.get("/console/users")
                // when
                let disabled = try await browser.follow(
                    try await browser.post("/console/users/\(user.id)/status", [("status", "disabled")]))
                var locked = try await field.get("/console")
                for _ in 0..<20 where locked.status == .ok {
                    try await Task.sleep(for: .milliseconds(250))
                    locked = try await field.get("/console")
                }
                let enabled = try await browser.follow(
                    try await browser.post("/console/users/\(user.id)/status", [("status", "active")]))
                // then
                #expect(users.mainText.contains("field@example.org"))
                #expect(disabled.mainText.contains("The user is disabled"), "\(disabled.mainText)")
                #expect(locked.status == .seeOther)
                #expect(enabled.mainText.contains("The user is active."))
                #expect(
                    try await field.signIn("field@example.org", type(of: client).scenarioPassword).status == .seeOther)
            }
        }
    }
}
