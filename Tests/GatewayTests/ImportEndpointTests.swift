import CoreService
import Foundation
import HTTPTypes
import HummingbirdTesting
import RahatApp
import TestInfrastructure
import TestSupport
import Testing

extension GatewayTests {
    @Suite("Imports over HTTP")
    struct Imports {
        static let csv: HTTPFields = [.contentType: "text/csv"]

        @Test(
            "a raw CSV body is imported in the background; its rejects download as CSV",
            arguments: DatabaseEngine.available)
        func csv(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                // given
                let tokens = try await client.login()
                let csv = "name,phone\nAsha,+9779800000001\nNo Phone Valid,12\n"
                // when
                let accepted = try await client.send(
                    .post, "/v1/imports?fileName=ward.csv", raw: csv, bearer: tokens.access, headers: Self.csv)
                let location = try #require(accepted.headers[.location])
                var status = try await client.send(.get, location, bearer: tokens.access)
                for _ in 0..<100 where try status.json["status"] as? String != "completed" {
                    try await Task.sleep(for: .milliseconds(100))
                    status = try await client.send(.get, location, bearer: tokens.access)
                }
                let rejects = try await client.send(.get, "\(location)/rejects", bearer: tokens.access)
                let empty = try await client.send(
                    .post, "/v1/imports", raw: "", bearer: tokens.access, headers: Self.csv)
                let badProject = try await client.send(
                    .post, "/v1/imports?projectId=nope", raw: csv, bearer: tokens.access, headers: Self.csv)
                let boundary = "rahat-test-boundary"
                let form =
                    "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"w.csv\"\r\n"
                    + "Content-Type: text/csv\r\n\r\nname\nBinod\r\n--\(boundary)--\r\n"
                let multipart = try await client.send(
                    .post, "/v1/imports", raw: form, bearer: tokens.access,
                    headers: [.contentType: "multipart/form-data; boundary=\(boundary)"])
                let wrongPart = try await client.send(
                    .post, "/v1/imports", raw: form.replacingOccurrences(of: "name=\"file\"", with: "name=\"upload\""),
                    bearer: tokens.access, headers: [.contentType: "multipart/form-data; boundary=\(boundary)"])
                let noParts = try await client.send(
                    .post, "/v1/imports", raw: "--\(boundary)--\r\n", bearer: tokens.access,
                    headers: [.contentType: "multipart/form-data; boundary=\(boundary)"])
                // then
                #expect(multipart.status == .accepted)
                #expect(wrongPart.status == .badRequest)
                #expect(noParts.status == .badRequest && noParts.problemFields == ["file"], "\(noParts)")
                #expect(accepted.status == .accepted)
                #expect(try status.json["created"] as? Int == 1)
                #expect(try status.json["rejected"] as? Int == 1)
                #expect(rejects.headers[.contentType]?.hasPrefix("text/csv") == true)
                #expect(String(decoding: rejects.body, as: UTF8.self).hasPrefix("line,column,reason\r\n3,phone,"))
                #expect(empty.status == .badRequest)
                #expect(empty.problemFields == ["file"])
                #expect(badProject.status == .badRequest)
            }
        }
        @Test(
            "a file over the limit is answered 413 while it streams, and nothing of it is kept",
            arguments: DatabaseEngine.available)
        func tooLarge(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine, configure: { $0.core.importMaxBytes = 4096 }) { client in
                // given
                let tokens = try await client.login()
                let csv = "name\n" + String(repeating: "A very long name indeed, repeated\n", count: 500)
                // when
                let refused = try await client.send(
                    .post, "/v1/imports", raw: csv, bearer: tokens.access, headers: Self.csv)
                let listed = try await client.send(.get, "/v1/imports", bearer: tokens.access)
                // then
                #expect(refused.status == .contentTooLarge)
                #expect(refused.headers[.contentType] == "application/problem+json")
                #expect(try refused.json["code"] as? String == "import.too_large")
                #expect(refused.problemFields == ["file"])
                #expect(try (listed.json["items"] as? [Any])?.count == 0)
            }
        }
    }
}
