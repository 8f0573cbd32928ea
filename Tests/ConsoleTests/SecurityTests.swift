import Console
import Foundation
import Gateway
import HTTPTypes
import HummingbirdTesting
import RahatApp
import ServerKit
import TestInfrastructure
import TestSupport
import Testing

extension ConsoleTests {
    /// The console's defences: CSRF tokens, same-origin forms, the content security policy, escaped
    /// output, cookies marked for TLS.
    @Suite("Security")
    struct Security {
        @Test("a form without the session's token changes nothing")
        func csrf() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let browser = Browser(client)
                try await browser.signIn()
                _ = try await browser.get("/console/projects/new")
                let fields = [("name", "Forged"), ("type", "c2c"), ("asset", "NPR"), ("assetScale", "2")]
                // when
                let wrongToken = try await browser.post(
                    "/console/projects", [("_csrf", "not-the-token")] + fields, csrf: false)
                browser.forgetToken()
                let noToken = try await browser.post("/console/projects", fields, csrf: false)
                let tokens = try await client.login()
                let projects = try await client.send(.get, "/v1/projects", bearer: tokens.access)
                // then
                #expect(wrongToken.status == .forbidden)
                #expect(noToken.status == .forbidden)
                #expect(noToken.mainText.contains("This form has expired"))
                #expect(try (projects.json["items"] as? [Any])?.isEmpty == true, "\(projects)")
            }
        }

        @Test("a form posted from another origin is refused, even with the token")
        func crossOrigin() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let browser = Browser(client)
                try await browser.signIn()
                _ = try await browser.get("/console/projects/new")
                let page = try await browser.post(
                    "/console/projects", [("name", "Forged"), ("type", "c2c"), ("asset", "NPR"), ("assetScale", "2")],
                    headers: [.origin: "https://evil.example"])
                #expect(page.status == .forbidden)
                #expect(page.mainText.contains("This form was sent from another site"))
            }
        }

        @Test("every page carries a strict policy: no inline script, no framing, no caching")
        func headers() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let browser = Browser(client)
                let signIn = try await browser.get("/console/sign-in")
                try await browser.signIn()
                for page in [signIn, try await browser.get("/console"), try await browser.get("/console/nowhere")] {
                    let policy = try #require(page.headers[HTTPField.Name("Content-Security-Policy")!])
                    #expect(policy.contains("script-src 'self'"))
                    #expect(!policy.contains("unsafe-inline"))
                    #expect(policy.contains("frame-ancestors 'none'"))
                    #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                    #expect(page.headers[.cacheControl] == "no-store")
                    #expect(page.headers[.contentType] == "text/html; charset=utf-8")
                    #expect(page.html.range(of: #"<script(?![^>]*\ssrc=)"#, options: .regularExpression) == nil)
                }
            }
        }

        @Test("what users type is shown as text, never as markup")
        func escaping() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let browser = Browser(client)
                try await browser.signIn()
                _ = try await browser.get("/console/projects/new")
                let created = try await browser.follow(
                    try await browser.post(
                        "/console/projects",
                        [
                            ("name", "<script>alert('x')</script>\"><img src=x>"), ("type", "c2c"), ("asset", "NPR"),
                            ("assetScale", "2"),
                        ]))
                #expect(created.status == .ok, "\(created)")
                #expect(
                    created.html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&gt;&lt;img src=x&gt;"))
                #expect(!created.html.contains("<script>alert"))
                #expect(!created.html.contains("<img src=x>"))
            }
        }

        @Test("behind TLS the session cookie is Secure and host-bound")
        func secureCookie() async throws {
            try await GatewayHarness.withEmbedded(
                .sqlite, configure: { $0.console.secureCookie = .always }
            ) { client in
                let browser = Browser(client)
                let signedIn = try await browser.signIn()
                let attributes = browser.cookieAttributes["__Host-rahat-session"] ?? []
                #expect(signedIn.status == .seeOther)
                #expect(attributes.contains("Secure"))
                #expect(attributes.contains("HttpOnly"))
                #expect(attributes.contains("SameSite=Strict"))
                #expect(attributes.contains("Path=/"))
                #expect(!attributes.contains { $0.hasPrefix("Domain") })
                #expect(try await browser.get("/console").status == .ok)
            }
        }

        @Test("sign-in failures are throttled as the API's are")
        func throttled() async throws {
            try await GatewayHarness.withEmbedded(
                .sqlite,
                configure: { $0.gateway.rateLimits.limits[.login] = RateLimit(3, per: .seconds(60)) }
            ) { client in
                let browser = Browser(client)
                _ = try await browser.get("/console/sign-in")
                var statuses: [Int] = []
                for _ in 0..<5 {
                    let page = try await browser.post(
                        "/console/sign-in", [("email", ServiceHarness.adminEmail), ("password", "wrong password here")])
                    statuses.append(page.status.code)
                }
                let refused = try await browser.post(
                    "/console/sign-in", [("email", ServiceHarness.adminEmail), ("password", "wrong password here")])
                #expect(statuses.prefix(3).allSatisfy { $0 == 401 }, "\(statuses)")
                #expect(statuses.last == 429, "\(statuses)")
                #expect(refused.mainText.contains("Too many attempts"))
                #expect(refused.headers[.retryAfter] != nil)
            }
        }

        @Test("a form larger than any of the console's is refused with 413, not a failure")
        func oversizedForm() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let browser = Browser(client)
                try await browser.signIn()
                _ = try await browser.get("/console/projects/new")
                let page = try await browser.post(
                    "/console/projects", [("name", String(repeating: "x", count: 70_000)), ("type", "c2c")])
                #expect(page.status == .contentTooLarge, "\(page)")
                #expect(page.mainText.contains("This form is larger than the console takes."))
            }
        }

        @Test("a page is far under 100 KB")
        func weight() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let browser = Browser(client)
                try await browser.signIn()
                for path in ["/console", "/console/projects", "/console/projects/new", "/console/account"] {
                    let page = try await browser.get(path)
                    #expect(page.status == .ok, "\(path): \(page)")
                    #expect(page.html.utf8.count < 100_000, "\(path) is \(page.html.utf8.count) bytes")
                }
            }
        }
    }
}
