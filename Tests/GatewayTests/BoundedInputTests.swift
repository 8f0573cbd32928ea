import Foundation
import Gateway
import HTTPTypes
import HummingbirdTesting
import NIOCore
import RahatApp
import TestInfrastructure
import TestSupport
import Testing

extension GatewayTests {
    /// Nothing a client sends can make the gateway hold more than it means to, or hold a
    /// connection for ever.
    @Suite("Bounded input")
    struct BoundedInput {
        @Test("a JSON body over the limit is refused with 413 naming the limit, sign-in included")
        func oversizedJSON() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                // given
                let admin = try await client.login()
                let huge = #"{"email":"a@b.co","password":""# + String(repeating: "x", count: 2_100_000) + #""}"#

                // when
                let login = try await client.send(.post, "/v1/auth/login", raw: huge)
                let project = try await client.send(
                    .post, "/v1/projects",
                    raw: #"{"name":"x","type":"c2c","asset":"NPR","assetScale":2,"description":""#
                        + String(repeating: "d", count: 1_100_000) + #""}"#,
                    bearer: admin.access)
                let justUnder = try await client.send(
                    .post, "/v1/auth/login",
                    raw: #"{"email":"a@b.co","password":""# + String(repeating: "x", count: 1_000_000) + #""}"#)

                // then
                #expect(login.status == .contentTooLarge, "\(login)")
                #expect(login.headers[.contentType] == "application/problem+json")
                #expect(login.problemCode == "request.too_large")
                #expect(login.problemFields == ["body"])
                #expect(try (login.json["detail"] as? String)?.contains("1 MiB") == true)
                #expect(project.status == .contentTooLarge, "\(project)")
                #expect(justUnder.status != .contentTooLarge, "\(justUnder)")
            }
        }

        @Test("the limit is configurable")
        func configuredLimit() async throws {
            try await GatewayHarness.withEmbedded(
                .sqlite, configure: { $0.gateway.maxBodyBytes = 4096 }
            ) { client in
                let refused = try await client.send(
                    .post, "/v1/auth/login",
                    raw: #"{"email":"a@b.co","password":""# + String(repeating: "x", count: 5000) + #""}"#)
                let login = try await client.login()
                #expect(refused.status == .contentTooLarge)
                #expect(try (refused.json["detail"] as? String)?.contains("4 KiB") == true)
                #expect(!login.access.isEmpty)
            }
        }

        @Test("ten concurrent 50 MiB sign-in bodies are refused and the gateway's memory stays flat")
        func memoryStaysFlat() async throws {
            try await GatewayHarness.withEmbedded(.sqlite, testing: .live) { client in
                // given a running gateway and what this process holds once it has answered once
                let port = try #require(client.port)
                _ = try await client.send(.get, "/health")
                let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 65_536)
                let repeats = 50 * 1_048_576 / chunk.readableBytes

                // when ten clients each send 50 MiB of a password, half declaring its length and
                // half streaming it chunked
                let (statuses, growth) = try await ProcessMemory.peakGrowth {
                    try await withThrowingTaskGroup(of: Int?.self) { tasks in
                        for index in 0..<10 {
                            let chunked = index.isMultiple(of: 2)
                            let opening = ByteBuffer(string: #"{"email":"a@b.co","password":""#)
                            let length = opening.readableBytes + chunk.readableBytes * repeats
                            let framing = chunked ? "Transfer-Encoding: chunked" : "Content-Length: \(length)"
                            tasks.addTask {
                                try await RawHTTPClient.send(
                                    port: port,
                                    head: "POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\n"
                                        + "Content-Type: application/json\r\n\(framing)",
                                    opening: opening, chunk: chunk, repeats: repeats, chunked: chunked)
                            }
                        }
                        return try await tasks.reduce(into: []) { $0.append($1) }
                    }
                }

                // then every one was refused, and far less than the 500 MiB sent was ever held
                #expect(statuses == Array(repeating: 413, count: 10))
                #expect(growth < 100 * 1_048_576, "RSS rose by \(growth / 1_048_576) MiB")
            }
        }

        @Test("a connection that never finishes its headers is closed after the header timeout")
        func slowHeaders() async throws {
            try await GatewayHarness.withEmbedded(
                .sqlite, testing: .live, configure: { $0.gateway.headerTimeout = .seconds(1) }
            ) { client in
                let port = try #require(client.port)
                let held = try await RawHTTPClient.holdOpen(
                    port: port, prefix: "POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\n", limit: .seconds(20))
                // and the gateway still answers a client that sends its request (on a connection
                // of its own: the test client's, idle all along, was closed too)
                let health = try await RawHTTPClient.send(
                    port: port, head: "GET /health HTTP/1.1\r\nHost: localhost", chunk: ByteBuffer(), repeats: 0,
                    chunked: false)
                #expect(held < .seconds(10), "held for \(held)")
                #expect(health == 200)
            }
        }

        @Test(
            "an object that gives a key twice is a 400 problem naming the key, however it is spelled, and nothing is written"
        )
        func repeatedKeys() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                // given
                let admin = try await client.login()
                let fields = #""type":"c2c","asset":"NPR","assetScale":2"#

                // when: the name twice, once spelled with an escape; a password twice at sign-in
                let plain = try await client.send(
                    .post, "/v1/projects", raw: #"{"name":"Relief",\#(fields),"name":"Other"}"#, bearer: admin.access)
                let escaped = try await client.send(
                    .post, "/v1/projects", raw: #"{"name":"Relief",\#(fields),"n\u0061me":"Other"}"#,
                    bearer: admin.access)
                let login = try await client.send(
                    .post, "/v1/auth/login",
                    raw:
                        #"{"email":"\#(ServiceHarness.adminEmail)","password":"wrong","password":"\#(ServiceHarness.adminPassword)"}"#
                )
                let once = try await client.send(
                    .post, "/v1/projects", raw: #"{"name":"Relief",\#(fields)}"#, bearer: admin.access)
                let projects = try await client.send(.get, "/v1/projects", bearer: admin.access)

                // then
                for (answer, field) in [(plain, "name"), (escaped, "name"), (login, "password")] {
                    #expect(answer.status == .badRequest, "\(answer)")
                    #expect(try answer.json["code"] as? String == "request.malformed")
                    let errors = try answer.json["errors"] as? [[String: Any]]
                    #expect(errors?.first?["field"] as? String == field, "\(answer)")
                }
                #expect(once.status == .created, "\(once)")
                #expect(try (projects.json["items"] as? [Any])?.count == 1, "\(projects)")
            }
        }

        @Test("a body nested past reason or not UTF-8 is a 400 problem naming the body, and nothing is written")
        func malformedJSON() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                // given
                let admin = try await client.login()
                func post(_ bytes: [UInt8]) async throws -> (status: HTTPResponse.Status, type: String?, body: String) {
                    var headers: HTTPFields = [.contentType: "application/json"]
                    headers[.authorization] = "Bearer \(admin.access)"
                    return try await client.execute(
                        uri: "/v1/projects", method: .post, headers: headers, body: ByteBuffer(bytes: bytes)
                    ) { response in
                        (response.status, response.headers[.contentType], String(buffer: response.body))
                    }
                }
                let fields = Array(#""type":"c2c","asset":"NPR","assetScale":2}"#.utf8)

                // when: a name nested 100,000 arrays deep, and a name that is not UTF-8
                let deep = try await post(
                    Array(#"{"name":"#.utf8) + Array(repeating: UInt8(ascii: "["), count: 100_000)
                        + Array(repeating: UInt8(ascii: "]"), count: 100_000) + [UInt8(ascii: ",")] + fields)
                let notUTF8 = try await post(
                    Array(#"{"name":"Relief "#.utf8) + [0xFF, 0xFE, 0xC3] + Array(#"","#.utf8) + fields)
                let projects = try await client.send(.get, "/v1/projects", bearer: admin.access)

                // then
                for answer in [deep, notUTF8] {
                    #expect(answer.status == .badRequest, "\(answer)")
                    #expect(answer.type == "application/problem+json")
                }
                #expect(try (projects.json["items"] as? [Any])?.isEmpty == true, "\(projects)")
            }
        }
    }
}
