import Foundation
import HTTPTypes
import HummingbirdTesting
import TestInfrastructure
import TestSupport
import Testing

extension ConsoleTests {
    /// Language and time zone: chosen by the user and kept with them, or the browser's.
    @Suite("Preferences")
    struct Preferences {
        @Test(
            "a user's language and time zone follow them to another browser, and stay out of the next user's",
            arguments: DatabaseEngine.available)
        func followTheUser(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                // given
                let admin = try await client.login()
                let sita = try await client.createUser("sita@example.org", role: "auditor", bearer: admin.access)
                _ = try await client.createUser("hari@example.org", role: "auditor", bearer: admin.access)
                let password = type(of: client).scenarioPassword
                let shared = Browser(client)
                try await shared.signIn("sita@example.org", password)
                _ = try await shared.get("/console")
                // when Sita chooses Nepali and Kathmandu time on a shared laptop
                let chosen = try await shared.follow(
                    try await shared.post("/console/preferences", [("language", "ne"), ("back", "/console/account")]))
                _ = try await shared.follow(
                    try await shared.post(
                        "/console/preferences", [("timeZone", "Asia/Kathmandu"), ("back", "/console/account")]))
                let forged = try await shared.post("/console/preferences", [("language", "en")], csrf: false)
                // then signs in on another browser, and Hari signs in on the shared one after her
                let elsewhere = Browser(client)
                try await elsewhere.signIn("sita@example.org", password)
                let hers = try await elsewhere.get("/console/account")
                _ = try await shared.post("/console/sign-out")
                let signInPage = try await shared.get("/console/sign-in")
                try await shared.signIn("hari@example.org", password)
                let his = try await shared.get("/console/account")
                let stored = try await client.send(.get, "/v1/users/\(sita.id)", bearer: admin.access)
                let badLocale = try await client.send(
                    .patch, "/v1/users/\(sita.id)", json: ["locale": "not a language"], bearer: admin.access)
                let badZone = try await client.send(
                    .patch, "/v1/users/\(sita.id)", json: ["timeZone": "Mars/Olympus"], bearer: admin.access)
                // then
                #expect(chosen.html.contains(#"<html lang="ne""#), "\(chosen.html.prefix(200))")
                #expect(forged.status == .forbidden, "a preference is a form like any other: \(forged.status)")
                #expect(hers.html.contains(#"<html lang="ne""#), "her language followed her")
                #expect(hers.html.contains(#"<option value="Asia/Kathmandu" selected>"#), "and her time zone")
                #expect(signInPage.html.contains(#"<html lang="ne""#), "before sign-in, the browser's choice")
                #expect(his.html.contains(#"<html lang="en""#), "Hari reads his own language, not hers")
                #expect(!his.html.contains(#"<option value="Asia/Kathmandu" selected>"#))
                #expect(try stored.json["locale"] as? String == "ne", "\(stored)")
                #expect(try stored.json["timeZone"] as? String == "Asia/Kathmandu")
                #expect(badLocale.status == .badRequest, "\(badLocale)")
                #expect(badLocale.problemFields == ["locale"], "\(badLocale)")
                #expect(badZone.status == .badRequest, "\(badZone)")
                #expect(badZone.problemFields == ["timeZone"], "\(badZone)")
            }
        }
    }
}
