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

        @Test(
            "an administrator creates a user with a role in one project, adds and removes roles, and makes a role",
            arguments: DatabaseEngine.available)
        func usersAndRoles(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                // given
                let admin = try await client.login()
                let projectID = try await client.createProject("Flood relief", bearer: admin.access)
                let browser = Browser(client)
                try await browser.signIn()
                _ = try await browser.get("/console/users/new")
                let person = [("name", "Gita Thapa"), ("email", "gita@example.org"), ("phone", "+9779800000099")]
                // when a user is made, wrongly, then rightly
                let missing = try await browser.post("/console/users", [("name", "Gita Thapa")])
                let weak = try await browser.post(
                    "/console/users", person + [("password", "password"), ("role", "field_agent")])
                let created = try await browser.follow(
                    try await browser.post(
                        "/console/users",
                        person + [
                            ("password", "a long field passphrase"), ("role", "field_agent"), ("projectId", projectID),
                        ]))
                let userPath = try #require(browser.lastLocation, "\(created)")
                let taken = try await browser.post(
                    "/console/users", person + [("password", "a long field passphrase")])
                // and given a second role, then without the first
                _ = try await browser.get(userPath)
                let added = try await browser.follow(
                    try await browser.post(userPath + "/roles", [("action", "add"), ("role", "auditor")]))
                let removed = try await browser.follow(
                    try await browser.post(
                        userPath + "/roles",
                        [("action", "remove"), ("role", "field_agent"), ("projectId", projectID)]))
                // and a role of the agency's own is made and deleted
                _ = try await browser.get("/console/roles")
                let noPermissions = try await browser.post("/console/roles", [("name", "cash_officer")])
                let badName = try await browser.post(
                    "/console/roles", [("name", "Cash Officer"), ("permissions", "redemption:manage")])
                let role = try await browser.follow(
                    try await browser.post(
                        "/console/roles",
                        [
                            ("name", "cash_officer"), ("description", "Redeems for shops without a phone"),
                            ("permissions", "redemption:manage"), ("permissions", "vendor:read"),
                        ]))
                let deleted = try await browser.follow(try await browser.post("/console/roles/cash_officer/delete"))
                let builtIn = try await browser.follow(try await browser.post("/console/roles/admin/delete"))
                let roles = try await client.send(
                    .get, "/v1/users/\(userPath.split(separator: "/").last ?? "")/roles", bearer: admin.access)
                // then
                #expect(missing.status == .badRequest)
                #expect(
                    missing.html.contains(#"id="field-email-error""#)
                        && missing.html.contains(#"id="field-password-error""#))
                #expect(weak.status == .badRequest, "\(weak)")
                #expect(weak.html.contains(#"id="field-password-error""#), "\(weak)")
                #expect(created.mainText.contains("Gita Thapa can now sign in."), "\(created.mainText)")
                #expect(created.mainText.contains("field_agent in Flood relief"), "\(created.mainText)")
                #expect(taken.status == .badRequest || taken.status == .conflict, "\(taken)")
                #expect(taken.html.contains(#"id="field-email-error""#), "\(taken)")
                #expect(added.mainText.contains("auditor (every project)"), "\(added.mainText)")
                #expect(removed.mainText.contains("The role is removed."), "\(removed.mainText)")
                #expect(!removed.mainText.contains("field_agent in"))
                #expect(
                    (try roles.json["items"] as? [[String: Any]])?.compactMap { $0["role"] as? String } == ["auditor"])
                #expect(noPermissions.status == .badRequest)
                #expect(noPermissions.mainText.contains("Choose at least one permission."))
                #expect(badName.status == .badRequest, "\(badName)")
                #expect(badName.html.contains(#"id="field-name-error""#), "\(badName)")
                #expect(role.mainText.contains("The role cash_officer is created."), "\(role.mainText)")
                #expect(role.mainText.contains("redemption:manage, vendor:read"))
                #expect(deleted.mainText.contains("The role cash_officer is deleted."), "\(deleted.mainText)")
                #expect(!builtIn.mainText.contains("is deleted"), "a built-in role stays: \(builtIn.mainText)")
                #expect(!role.html.contains("/console/roles/admin/delete"), "no button deletes a built-in role")
            }
        }
    }
}
