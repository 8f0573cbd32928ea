import Foundation
import HTTPTypes
import HummingbirdTesting
import TestInfrastructure
import TestSupport
import Testing

extension GatewayTests {
    @Suite("Vendors over HTTP")
    struct Vendors {
        @Test("register a vendor, assign it to a project, and the vendor logs in", arguments: DatabaseEngine.available)
        func lifecycle(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                // given
                let tokens = try await client.login()
                let project = try await client.send(
                    .post, "/v1/projects",
                    json: ["name": "Voucher fair", "type": "cva", "asset": "NPR", "assetScale": 2],
                    bearer: tokens.access)
                let projectID = try #require(try project.json["id"] as? String)
                let vendor: [String: Any] = [
                    "name": "Hari Hardware", "email": "hari@example.org", "password": "hari's long passphrase",
                    "country": "NP",
                    "payoutAccount": [
                        "type": "bank", "bankName": "Nabil Bank", "accountName": "Hari Hardware",
                        "accountNumber": "0100-1234-5678",
                    ],
                ]
                // when
                let created = try await client.send(.post, "/v1/vendors", json: vendor, bearer: tokens.access)
                let vendorID = try #require(try created.json["id"] as? String)
                let assigned = try await client.send(
                    .post, "/v1/projects/\(projectID)/vendors", json: ["vendorId": vendorID], bearer: tokens.access)
                let listed = try await client.send(.get, "/v1/vendors?projectId=\(projectID)", bearer: tokens.access)
                let login = try await client.send(
                    .post, "/v1/auth/login", json: ["email": "hari@example.org", "password": "hari's long passphrase"])
                var broken = vendor
                broken["email"] = "other@example.org"
                broken["payoutAccount"] = [
                    "type": "bank", "bankName": "Nabil Bank", "accountName": "X", "accountNumber": "12",
                ]
                let bad = try await client.send(.post, "/v1/vendors", json: broken, bearer: tokens.access)
                let deactivated = try await client.send(
                    .post, "/v1/vendors/\(vendorID)/deactivate", bearer: tokens.access)
                let unassigned = try await client.send(
                    .delete, "/v1/projects/\(projectID)/vendors/\(vendorID)", bearer: tokens.access)
                // then
                #expect(created.status == .created)
                #expect(created.headers[.location] == "/v1/vendors/\(vendorID)")
                #expect(
                    try (created.json["payoutAccount"] as? [String: Any])?["accountNumber"] as? String == "010012345678"
                )
                #expect(try assigned.json["assigned"] as? Bool == true)
                #expect(try (listed.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [vendorID])
                #expect(login.status == .ok)
                #expect(bad.status == .badRequest)
                #expect(bad.problemFields == ["payoutAccount.accountNumber"])
                #expect(try deactivated.json["status"] as? String == "inactive")
                #expect(unassigned.status == .noContent)
            }
        }
    }
}
