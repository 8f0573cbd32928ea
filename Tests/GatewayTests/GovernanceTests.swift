import C2CService
import Foundation
import HTTPTypes
import HummingbirdTesting
import Notifications
import RahatApp
import TestInfrastructure
import TestSupport
import Testing

extension GatewayTests {
    /// Who may put money into a project and decide who approves its spending (security review
    /// H2, M3, L5).
    @Suite("Money governance")
    struct MoneyGovernance {
        @Test(
            "funding a project and setting its approvers need project:manage, which a manager lacks",
            arguments: DatabaseEngine.available)
        func fundingAndApproversNeedManage(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                // given project A, its manager, a second manager and a vendor
                let admin = try await client.login()
                let projectA = try await client.createProject(bearer: admin.access)
                let manager = try await client.createUser(
                    "manager@example.org", role: "manager", projectID: projectA, bearer: admin.access)
                let colleague = try await client.createUser(
                    "colleague@example.org", role: "manager", projectID: projectA, bearer: admin.access)
                let vendor = try await client.createUser("shop@example.org", role: "vendor", bearer: admin.access)

                // when the manager mints funding and shrinks the quorum to a colleague
                let minted = try await client.send(
                    .post, "/v1/projects/\(projectA)/funding",
                    json: ["amount": 9_000_000_000_000, "reference": "x"], bearer: manager.access)
                let quorum = try await client.send(
                    .put, "/v1/projects/\(projectA)/approvers",
                    json: ["userIds": [colleague.id], "required": 1], bearer: manager.access)
                // and a vendor sends a list far longer than any quorum
                let flood = try await client.send(
                    .put, "/v1/projects/\(projectA)/approvers",
                    json: ["userIds": (0..<30).map { _ in UUID().uuidString }, "required": 1],
                    bearer: vendor.access)
                // and the admin does both
                let funded = try await client.send(
                    .post, "/v1/projects/\(projectA)/funding", json: ["amount": 50_000, "reference": "ECHO-1"],
                    bearer: admin.access)
                let set = try await client.send(
                    .put, "/v1/projects/\(projectA)/approvers",
                    json: ["userIds": [manager.id, colleague.id], "required": 2], bearer: admin.access)
                let books = try await client.send(
                    .get, "/v1/projects/\(projectA)/reconciliation", bearer: manager.access)

                // then
                #expect(minted.status == .forbidden, "\(minted)")
                #expect(try (minted.json["detail"] as? String)?.contains("project:manage") == true)
                #expect(quorum.status == .forbidden, "\(quorum)")
                #expect(flood.status == .badRequest && flood.problemFields == ["userIds"], "\(flood)")
                #expect(funded.status == .created, "\(funded)")
                #expect(set.status == .ok, "\(set)")
                #expect(try books.json["funded"] as? Int == 50_000, "\(books)")
            }
        }

        @Test(
            "approving a disbursement needs a person's password session, not an API key",
            arguments: DatabaseEngine.available)
        func approvalNeedsPerson(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                // given a funded project, a verified beneficiary, and an approver holding a key
                let admin = try await client.login()
                let projectID = try await client.createProject(bearer: admin.access)
                let person = try await client.createBeneficiary(
                    ["name": "Sita Rai", "birthDate": "1980-02-03", "gender": "female"], bearer: admin.access)
                try await client.enrol([person], in: projectID, bearer: admin.access)
                _ = try await client.send(
                    .post, "/v1/projects/\(projectID)/funding", json: ["amount": 10_000, "reference": "G-1"],
                    bearer: admin.access)
                let approver = try await client.createUser(
                    "approver@example.org", role: "manager", projectID: projectID, bearer: admin.access)
                _ = try await client.send(
                    .put, "/v1/projects/\(projectID)/approvers", json: ["userIds": [approver.id], "required": 1],
                    bearer: admin.access)
                let key = try await client.send(
                    .post, "/v1/api-keys",
                    json: [
                        "name": "approval bot", "permissions": ["disbursement:read", "disbursement:approve"],
                        "projectId": projectID,
                    ],
                    bearer: approver.access)
                let secret = try #require(try key.json["key"] as? String, "\(key)")
                let stats = try await client.poll("/v1/projects/\(projectID)/stats", bearer: admin.access) {
                    ($0["byVerificationStatus"] as? [String: Int])?["verified"] == 1
                }
                #expect((stats["byVerificationStatus"] as? [String: Int])?["verified"] == 1, "\(stats)")
                let draft = try await client.send(
                    .post, "/v1/disbursements",
                    json: ["projectId": projectID, "name": "November", "amountPerBeneficiary": 500],
                    bearer: admin.access)
                let id = try #require(try draft.json["id"] as? String, "\(draft)")
                let submitted = try await client.send(.post, "/v1/disbursements/\(id)/submit", bearer: admin.access)
                #expect(submitted.status == .ok, "\(submitted)")

                // when
                let byKey = try await client.send(
                    .post, "/v1/disbursements/\(id)/approve", json: ["note": "ok"],
                    headers: [HTTPField.Name("X-API-Key")!: secret])
                let byPerson = try await client.send(
                    .post, "/v1/disbursements/\(id)/approve", json: ["note": "ok"], bearer: approver.access)

                // then
                #expect(byKey.status == .forbidden, "\(byKey)")
                #expect(byKey.problemCode == "disbursement.person_required")
                #expect(byPerson.status == .ok, "\(byPerson)")
            }
        }

        @Test(
            "a vendor's payout account changes only when a second person approves it, and the vendor is told",
            arguments: DatabaseEngine.available)
        func payoutAccountNeedsSecondPerson(engine: DatabaseEngine) async throws {
            let smsFile = FileManager.default.temporaryDirectory
                .appendingPathComponent("rahat-sms-\(UUID().uuidString).jsonl").path
            defer { try? FileManager.default.removeItem(atPath: smsFile) }
            try await GatewayHarness.withEmbedded(engine, configure: { $0.c2c.sms = .file(path: smsFile) }) { client in
                // given a vendor paid to one account, a manager of all projects, and a second admin
                let admin = try await client.login()
                let vendor = try await client.send(
                    .post, "/v1/vendors",
                    json: [
                        "name": "Ram Kirana", "email": "ram@example.org", "password": "a long vendor passphrase",
                        "phone": "+9779811112222",
                        "payoutAccount": [
                            "type": "bank", "bankName": "Nabil Bank", "accountName": "Ram Kirana",
                            "accountNumber": "0100-1234-5678",
                        ],
                    ], bearer: admin.access)
                let vendorID = try #require(try vendor.json["id"] as? String, "\(vendor)")
                let manager = try await client.createUser("manager@example.org", role: "manager", bearer: admin.access)
                let secondAdmin = try await client.createUser("admin2@example.org", role: "admin", bearer: admin.access)
                let redirect: [String: Any] = [
                    "payoutAccount": [
                        "type": "bank", "bankName": "Other Bank", "accountName": "Someone Else",
                        "accountNumber": "9999-8888-7777",
                    ]
                ]
                func accountNumber(_ answer: HTTPAnswer) throws -> String? {
                    (try answer.json["payoutAccount"] as? [String: Any])?["accountNumber"] as? String
                }

                // when the manager redirects the payouts and approves it themself
                let requested = try await client.send(
                    .patch, "/v1/vendors/\(vendorID)", json: redirect, bearer: manager.access)
                let selfApproved = try await client.send(
                    .post, "/v1/vendors/\(vendorID)/payout-change/approve", bearer: manager.access)
                // then nothing has changed yet; the change waits
                #expect(requested.status == .ok, "\(requested)")
                #expect(try accountNumber(requested) == "010012345678", "\(requested)")
                let pending = try #require(try requested.json["pendingPayoutChange"] as? [String: Any], "\(requested)")
                #expect((pending["payoutAccount"] as? [String: Any])?["accountNumber"] as? String == "999988887777")
                #expect(pending["requestedBy"] as? String == manager.id)
                #expect(selfApproved.status == .forbidden, "\(selfApproved)")

                // when an admin approves it
                let approved = try await client.send(
                    .post, "/v1/vendors/\(vendorID)/payout-change/approve", json: ["note": "called the shop"],
                    bearer: admin.access)
                // then it applies, and the vendor is told on its phone
                #expect(approved.status == .ok, "\(approved)")
                #expect(try accountNumber(approved) == "999988887777")
                #expect(try approved.json["pendingPayoutChange"] == nil)
                let messages = (try? String(contentsOfFile: smsFile, encoding: .utf8)) ?? ""
                #expect(
                    messages.split(separator: "\n").contains { $0.contains("+9779811112222") && $0.contains("7777") },
                    "\(messages)")

                // when an admin asks for another change and approves it themself, then another rejects it
                _ = try await client.send(
                    .patch, "/v1/vendors/\(vendorID)",
                    json: [
                        "payoutAccount": [
                            "type": "mobile_money", "provider": "eSewa", "mobileNumber": "+9779800000000",
                        ]
                    ],
                    bearer: admin.access)
                let own = try await client.send(
                    .post, "/v1/vendors/\(vendorID)/payout-change/approve", bearer: admin.access)
                let rejected = try await client.send(
                    .post, "/v1/vendors/\(vendorID)/payout-change/reject", json: ["note": "not asked for by the shop"],
                    bearer: secondAdmin.access)
                let nothing = try await client.send(
                    .post, "/v1/vendors/\(vendorID)/payout-change/approve", bearer: secondAdmin.access)
                #expect(own.status == .forbidden && own.problemCode == "payout_change.own", "\(own)")
                #expect(rejected.status == .ok, "\(rejected)")
                #expect(try accountNumber(rejected) == "999988887777")
                #expect(nothing.status == .notFound && nothing.problemCode == "payout_change.not_found", "\(nothing)")
            }
        }
    }
}
