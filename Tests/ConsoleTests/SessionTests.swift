import Foundation
import HTTPTypes
import HummingbirdTesting
import TestInfrastructure
import TestSupport
import Testing

extension ConsoleTests {
    /// Signing in and out, and the ends a session comes to.
    @Suite("Sessions")
    struct Sessions {
        @Test("sign in, see the home page, sign out: the old cookie opens nothing", arguments: DatabaseEngine.available)
        func signInAndOut(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                let browser = Browser(client)
                // given
                let before = try await browser.get("/console")
                // when
                let signedIn = try await browser.signIn()
                let home = try await browser.follow(signedIn)
                let cookie = try #require(browser.cookies["rahat-session"])
                let signedOut = try await browser.follow(try await browser.post("/console/sign-out"))
                browser.setCookie("rahat-session", cookie)
                let afterwards = try await browser.get("/console")
                // then
                #expect(before.status == .seeOther)
                #expect(before.location == "/console/sign-in")
                #expect(signedIn.status == .seeOther, "\(signedIn)")
                #expect(signedIn.location == "/console")
                #expect(home.status == .ok)
                #expect(home.mainText.contains("Welcome, Administrator"), "\(home)")
                let attributes = browser.cookieAttributes["rahat-session"] ?? []
                #expect(attributes.contains("HttpOnly"))
                #expect(attributes.contains("SameSite=Strict"))
                #expect(attributes.contains("Path=/"))
                #expect(!attributes.contains("Secure"), "plain HTTP: the browser would drop a Secure cookie")
                #expect(signedOut.mainText.contains("You have signed out."), "\(signedOut)")
                #expect(afterwards.status == .seeOther)
                #expect(afterwards.location == "/console/sign-in")
            }
        }

        @Test("a wrong password is refused on the form, and the page comes back after sign-in")
        func refusedThenNext() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let browser = Browser(client)
                // given
                let redirected = try await browser.get("/console/projects?status=active")
                _ = try await browser.get(try #require(redirected.location))
                // when
                let refused = try await browser.post(
                    "/console/sign-in",
                    [
                        ("email", ServiceHarness.adminEmail), ("password", "not the password at all"),
                        ("next", "/console/projects?status=active"),
                    ])
                let accepted = try await browser.post(
                    "/console/sign-in",
                    [
                        ("email", ServiceHarness.adminEmail), ("password", ServiceHarness.adminPassword),
                        ("next", "/console/projects?status=active"),
                    ])
                // then
                #expect(redirected.location == "/console/sign-in?next=%2Fconsole%2Fprojects%3Fstatus%3Dactive")
                #expect(refused.status == .unauthorized)
                #expect(refused.mainText.contains("The email address or password is not right."))
                #expect(refused.html.contains("value=\"\(ServiceHarness.adminEmail)\""), "the email is kept")
                #expect(browser.cookies["rahat-session"] == nil || accepted.status == .seeOther)
                #expect(accepted.location == "/console/projects?status=active")
            }
        }

        @Test("an empty sign-in form names both fields without asking the API")
        func emptyForm() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let browser = Browser(client)
                _ = try await browser.get("/console/sign-in")
                let page = try await browser.post("/console/sign-in", [("email", ""), ("password", "")])
                #expect(page.status == .badRequest)
                #expect(page.html.contains("<a href=\"#field-email\">Email address: Enter a value.</a>"))
                #expect(page.html.contains("aria-describedby=\"field-password-error\""))
                #expect(page.html.contains("aria-invalid=\"true\""))
            }
        }

        @Test("changing the password ends every session of the user")
        func passwordChange() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let laptop = Browser(client)
                let phone = Browser(client)
                try await laptop.signIn()
                try await phone.signIn()
                // when
                _ = try await laptop.get("/console/account")
                let mismatch = try await laptop.post(
                    "/console/account/password",
                    [
                        ("currentPassword", ServiceHarness.adminPassword), ("password", "a brand new passphrase 42"),
                        ("confirmation", "something else entirely"),
                    ])
                let changed = try await laptop.post(
                    "/console/account/password",
                    [
                        ("currentPassword", ServiceHarness.adminPassword), ("password", "a brand new passphrase 42"),
                        ("confirmation", "a brand new passphrase 42"),
                    ])
                // Gateways read the revocation list twice a second.
                var phoneAfter = try await phone.get("/console")
                for _ in 0..<20 where phoneAfter.status == .ok {
                    try await Task.sleep(for: .milliseconds(250))
                    phoneAfter = try await phone.get("/console")
                }
                let signInAgain = try await laptop.follow(
                    try await laptop.signIn("admin@example.org", "a brand new passphrase 42"))
                // then
                #expect(mismatch.status == .badRequest)
                #expect(mismatch.mainText.contains("The two new passwords are not the same."))
                #expect(changed.location == "/console/sign-in?changed=1", "\(changed)")
                #expect(laptop.cookies["rahat-session"] != nil, "signed in again with the new password")
                #expect(phoneAfter.status == .seeOther)
                #expect(phoneAfter.location?.hasPrefix("/console/sign-in") == true, "\(phoneAfter)")
                #expect(signInAgain.status == .ok)
            }
        }

        @Test("a disabled user's session ends at the next page")
        func disabledUser() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let admin = try await client.login()
                let user = try await client.createUser("auditor@example.org", role: "auditor", bearer: admin.access)
                let browser = Browser(client)
                let signedIn = try await browser.signIn("auditor@example.org", type(of: client).scenarioPassword)
                #expect(signedIn.status == .seeOther, "\(signedIn)")
                #expect(try await browser.get("/console").status == .ok)
                // when
                let disabled = try await client.send(
                    .patch, "/v1/users/\(user.id)", json: ["status": "disabled"], bearer: admin.access)
                var after = try await browser.get("/console")
                for _ in 0..<20 where after.status == .ok {
                    try await Task.sleep(for: .milliseconds(250))
                    after = try await browser.get("/console")
                }
                // then
                #expect(disabled.status == .ok, "\(disabled)")
                #expect(after.status == .seeOther)
                #expect(after.location?.hasPrefix("/console/sign-in") == true)
            }
        }
    }
}
