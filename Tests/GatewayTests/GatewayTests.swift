import Foundation
import HTTPTypes
import HummingbirdTesting
import TestInfrastructure
import TestSupport
import Testing

/// The public HTTP contract, through Hummingbird's test client, with the platform as
/// `rahat serve` assembles it, on every database engine.
@Suite("Gateway")
struct GatewayTests {
    @Test("public endpoints answer without credentials", arguments: DatabaseEngine.available)
    func publicEndpoints(engine: DatabaseEngine) async throws {
        try await GatewayHarness.withEmbedded(engine) { client in
            let health = try await client.send(.get, "/health")
            let readiness = try await client.readiness()
            let spec = try await client.send(.get, "/openapi.yaml")
            let docs = try await client.send(.get, "/docs")
            #expect(health.status == .ok)
            #expect(try health.json["status"] as? String == "ok")
            #expect(readiness.status == .ok)
            let checks = try #require(try readiness.json["checks"] as? [[String: Any]])
            #expect(
                Set(checks.compactMap { $0["name"] as? String }) == [
                    "auth-service", "auth-database", "core-service", "core-database", "ledger-service",
                    "ledger-database", "c2c-service", "c2c-database",
                ])
            #expect(String(decoding: spec.body, as: UTF8.self).hasPrefix("openapi: 3.1"))
            #expect(spec.headers[.contentType]?.hasPrefix("application/yaml") == true)
            #expect(docs.headers[.contentType]?.hasPrefix("text/html") == true)
            let page = String(decoding: docs.body, as: UTF8.self)
            #expect(page.hasPrefix("<!doctype html>") && page.contains("/openapi.json"))
        }
    }

    @Test(
        "every other endpoint needs credentials, answered as problem+json",
        arguments: [
            (HTTPRequest.Method.get, "/v1/auth/me"), (.get, "/v1/users"), (.post, "/v1/auth/logout"),
            (.get, "/v1/roles"), (.get, "/v1/api-keys"), (.delete, "/v1/api-keys/01a21398-276b-7ea3-8334-6d42bd8c4689"),
        ])
    func credentialsRequired(method: HTTPRequest.Method, path: String) async throws {
        try await GatewayHarness.withEmbedded(.sqlite) { client in
            let answer = try await client.send(method, path, json: ["refreshToken": "x"])
            #expect(answer.status == .unauthorized)
            #expect(answer.headers[.contentType] == "application/problem+json")
            #expect(answer.problemCode == "auth.missing_credentials")
            #expect(answer.headers[.wwwAuthenticate] != nil)
        }
    }

    @Test("every response carries a request id, kept from the client when sane")
    func requestID() async throws {
        try await GatewayHarness.withEmbedded(.sqlite) { client in
            let generated = try await client.send(.get, "/health")
            let kept = try await client.send(.get, "/v1/users", headers: [HTTPField.Name("X-Request-Id")!: "trace-123"])
            let replaced = try await client.send(
                .get, "/health", headers: [HTTPField.Name("X-Request-Id")!: "bad id with spaces"])
            let requestID = HTTPField.Name("X-Request-Id")!
            #expect(generated.headers[requestID]?.count == 36)
            #expect(kept.headers[requestID] == "trace-123")
            #expect(try kept.json["requestId"] as? String == "trace-123")
            #expect(replaced.headers[requestID] != "bad id with spaces")
        }
    }

    @Test(
        "the README walkthrough: log in, me, create an API key, call with it both ways",
        arguments: DatabaseEngine.available)
    func walkthrough(engine: DatabaseEngine) async throws {
        try await GatewayHarness.withEmbedded(engine) { client in
            // given
            let tokens = try await client.login()
            // when
            let me = try await client.send(.get, "/v1/auth/me", bearer: tokens.access)
            let created = try await client.send(
                .post,
                "/v1/api-keys",
                json: ["name": "registry", "permissions": ["user:read"]],
                bearer: tokens.access
            )
            let key = try #require(try created.json["key"] as? String)
            let viaAuthorization = try await client.send(
                .get,
                "/v1/users",
                headers: [.authorization: "ApiKey \(key)"]
            )
            let viaHeader = try await client.send(.get, "/v1/auth/me", headers: [HTTPField.Name("X-API-Key")!: key])
            let forbidden = try await client.send(
                .post,
                "/v1/users",
                json: ["name": "X", "email": "x@example.org", "password": "another long passphrase"],
                headers: [HTTPField.Name("X-API-Key")!: key]
            )
            let listed = try await client.send(.get, "/v1/api-keys", bearer: tokens.access)
            // then
            #expect(me.status == .ok)
            #expect(try (me.json["user"] as? [String: Any])?["email"] as? String == ServiceHarness.adminEmail)
            #expect(created.status == .created)
            #expect(viaAuthorization.status == .ok)
            #expect(try viaHeader.json["authMethod"] as? String == "api_key")
            #expect(try viaHeader.json["permissions"] as? [String] == ["user:read"])
            #expect(forbidden.status == .forbidden)
            let items = try #require(try listed.json["items"] as? [[String: Any]])
            #expect(items.count == 1)
            #expect(items[0]["key"] == nil)
        }
    }

    @Test(
        "malformed bodies are 400 problems that name the field",
        arguments: [
            (#"{"email": "a@b.co""#, "body"),
            (#"{"email": "a@b.co", "password": 5}"#, "password"),
            (#"{"email": "a@b.co"}"#, "password"),
            (#"{"email": "a@b.co", "password": "x", "admin": true}"#, "admin"),
            (#"{"email": "not-an-email", "password": "x"}"#, "email"),
        ])
    func malformedLogin(body: String, field: String) async throws {
        try await GatewayHarness.withEmbedded(.sqlite) { client in
            let answer = try await client.send(.post, "/v1/auth/login", raw: body)
            #expect(answer.status == .badRequest)
            #expect(answer.headers[.contentType] == "application/problem+json")
            #expect(answer.problemFields == [field])
        }
    }

    @Test("creating a user validates everything at once and writes nothing", arguments: DatabaseEngine.available)
    func createUserValidation(engine: DatabaseEngine) async throws {
        try await GatewayHarness.withEmbedded(engine) { client in
            let tokens = try await client.login()
            let bad = try await client.send(
                .post,
                "/v1/users",
                json: [
                    "name": "", "email": "nope", "password": "short", "roles": [["role": "ghost", "projectId": "p"]],
                ],
                bearer: tokens.access
            )
            let tooLong = try await client.send(
                .post,
                "/v1/users",
                json: [
                    "name": String(repeating: "n", count: 201), "email": "ok@example.org",
                    "password": "another long passphrase",
                ],
                bearer: tokens.access
            )
            let created = try await client.send(
                .post,
                "/v1/users",
                json: [
                    "name": "Sita", "email": "sita@example.org", "password": "another long passphrase",
                    "roles": [["role": "field_agent"]],
                ],
                bearer: tokens.access
            )
            let duplicate = try await client.send(
                .post,
                "/v1/users",
                json: ["name": "Sita", "email": "SITA@example.org", "password": "another long passphrase"],
                bearer: tokens.access
            )
            let users = try await client.send(.get, "/v1/users", bearer: tokens.access)
            #expect(bad.status == .badRequest)
            #expect(Set(bad.problemFields) == ["name", "email", "password", "roles[0].projectId", "roles[0].role"])
            #expect(tooLong.problemFields == ["name"])
            #expect(created.status == .created)
            let id = try #require(try created.json["id"] as? String)
            #expect(created.headers[.location] == "/v1/users/\(id)")
            #expect(duplicate.status == .conflict)
            #expect(duplicate.problemCode == "user.email_taken")
            #expect(try (users.json["items"] as? [Any])?.count == 2)
        }
    }

    @Test("repeated failed logins are answered 429 with Retry-After", arguments: DatabaseEngine.available)
    func lockout(engine: DatabaseEngine) async throws {
        try await GatewayHarness.withEmbedded(engine) { client in
            for _ in 1...5 {
                let failed = try await client.send(
                    .post,
                    "/v1/auth/login",
                    json: ["email": ServiceHarness.adminEmail, "password": "definitely wrong"]
                )
                #expect(failed.status == .unauthorized)
            }
            let locked = try await client.send(
                .post,
                "/v1/auth/login",
                json: ["email": ServiceHarness.adminEmail, "password": ServiceHarness.adminPassword]
            )
            #expect(locked.status == .tooManyRequests)
            #expect(locked.problemCode == "auth.account_locked")
            let retryAfter = try #require(locked.headers[.retryAfter].flatMap { Int($0) })
            #expect((890...900).contains(retryAfter))
        }
    }

    @Test("refresh rotates; logout ends the session", arguments: DatabaseEngine.available)
    func refreshAndLogout(engine: DatabaseEngine) async throws {
        try await GatewayHarness.withEmbedded(engine) { client in
            let tokens = try await client.login()
            let refreshed = try await client.send(.post, "/v1/auth/refresh", json: ["refreshToken": tokens.refresh])
            let newRefresh = try #require(try refreshed.json["refreshToken"] as? String)
            let newAccess = try #require(try refreshed.json["accessToken"] as? String)
            let logout = try await client.send(
                .post, "/v1/auth/logout", json: ["refreshToken": newRefresh], bearer: newAccess)
            let afterLogout = try await client.send(.post, "/v1/auth/refresh", json: ["refreshToken": newRefresh])
            #expect(refreshed.status == .ok)
            #expect(logout.status == .noContent)
            #expect(afterLogout.status == .unauthorized)
        }
    }

    @Test("bad parameters are 400s naming the parameter")
    func parameters() async throws {
        try await GatewayHarness.withEmbedded(.sqlite) { client in
            let tokens = try await client.login()
            let badID = try await client.send(.get, "/v1/users/not-a-uuid", bearer: tokens.access)
            let badLimit = try await client.send(.get, "/v1/users?limit=500", bearer: tokens.access)
            let badCursor = try await client.send(.get, "/v1/users?cursor=zzz", bearer: tokens.access)
            let missing = try await client.send(
                .get, "/v1/users/01a21398-276b-7ea3-8334-6d42bd8c4689", bearer: tokens.access)
            let noRoute = try await client.send(.get, "/v2/everything")
            #expect(badID.problemFields == ["id"])
            #expect(badLimit.problemFields == ["limit"])
            #expect(badCursor.problemFields == ["cursor"])
            #expect(missing.status == .notFound)
            #expect(missing.problemCode == "user.not_found")
            #expect(noRoute.status == .notFound)
            #expect(noRoute.headers[.contentType] == "application/problem+json")
        }
    }
}
