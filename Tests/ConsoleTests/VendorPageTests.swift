import C2CService
import Foundation
import HTTPTypes
import HummingbirdTesting
import Notifications
import RahatApp
import TestInfrastructure
import TestSupport
import Testing

extension ConsoleTests {
    /// Vendors and what they redeem: registering one, the projects it serves, a payout account
    /// changed by one person and approved by another, and a shop redeeming with the SMS code.
    @Suite("Vendors and redemptions")
    struct Vendors {
        /// A project whose three beneficiaries were each paid 200.00 NPR.
        static func paidProject(_ client: any TestClientProtocol) async throws -> String {
            let (projectID, _, _) = try await Disbursements.fundedProject(client)
            let admin = try await client.login()
            let draft = try await client.send(
                .post, "/v1/disbursements",
                json: ["projectId": projectID, "name": "November", "amountPerBeneficiary": 20_000],
                bearer: admin.access)
            let disbursementID = try #require(try draft.json["id"] as? String, "\(draft)")
            _ = try await client.send(.post, "/v1/disbursements/\(disbursementID)/submit", bearer: admin.access)
            for index in 1...2 {
                let approver = try await client.login("approver\(index)@example.org", type(of: client).scenarioPassword)
                _ = try await client.send(
                    .post, "/v1/disbursements/\(disbursementID)/approve", json: [:], bearer: approver.access)
            }
            for _ in 0..<600 {
                let state = try await client.send(.get, "/v1/disbursements/\(disbursementID)", bearer: admin.access)
                if try state.json["status"] as? String == "completed" { return projectID }
                try await Task.sleep(for: .milliseconds(100))
            }
            Issue.record("the disbursement did not complete")
            return projectID
        }

        /// The 6-digit code of the last text message written to `file`.
        static func lastCode(in file: String) throws -> String {
            let sent = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
            let body = (try JSONSerialization.jsonObject(with: Data((sent.last ?? "").utf8)) as? [String: Any])?["body"]
            let code = try #require(
                (body as? String)?.split(whereSeparator: { !$0.isNumber }).first(where: { $0.count == 6 }))
            return String(code)
        }

        /// Registers Hari Hardware (login `hari@example.org`), paid by mobile money, serving `projectID`.
        static func registerShop(
            _ client: any TestClientProtocol, serving projectID: String, bearer: String
        ) async throws -> String {
            let vendor = try await client.send(
                .post, "/v1/vendors",
                json: [
                    "name": "Hari Hardware", "email": "hari@example.org", "password": "hari's long passphrase",
                    "payoutAccount": ["type": "mobile_money", "provider": "eSewa", "mobileNumber": "+9779811112222"],
                ], bearer: bearer)
            let vendorID = try #require(try vendor.json["id"] as? String, "\(vendor)")
            _ = try await client.send(
                .post, "/v1/projects/\(projectID)/vendors", json: ["vendorId": vendorID], bearer: bearer)
            return vendorID
        }

        static let payout: [(String, String)] = [
            ("payoutAccount.type", "mobile_money"), ("payoutAccount.provider", "eSewa"),
            ("payoutAccount.mobileNumber", "+9779811112222"),
        ]

        @Test(
            "an admin registers a vendor, errors by field; assigns it; a new payout account waits for another admin",
            arguments: DatabaseEngine.available)
        func register(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                // given
                let admin = try await client.login()
                let projectID = try await client.createProject("Flood relief", bearer: admin.access)
                _ = try await client.createUser(
                    "second@example.org", role: "admin", projectID: nil, bearer: admin.access)
                let browser = Browser(client)
                try await browser.signIn()
                _ = try await browser.get("/console/vendors/new")
                let details = [
                    ("name", "Hari Hardware"), ("email", "hari@example.org"), ("password", "hari's long passphrase"),
                    ("location", "Birgunj"),
                ]
                // when
                let missing = try await browser.post("/console/vendors", [("name", "Hari Hardware")])
                let badIBAN = try await browser.post(
                    "/console/vendors",
                    details + [
                        ("payoutAccount.type", "bank"), ("payoutAccount.bankName", "Nabil"),
                        ("payoutAccount.accountName", "Hari"),
                        ("payoutAccount.accountNumber", "DE89 3704 0044 0532 0130 01"),
                    ])
                let registered = try await browser.follow(
                    try await browser.post("/console/vendors", details + Self.payout))
                let vendorPath = try #require(browser.lastLocation, "\(registered)")
                let assigned = try await browser.follow(
                    try await browser.post(vendorPath + "/projects", [("projectId", projectID)]))
                _ = try await browser.get(vendorPath + "/edit")
                let changed = try await browser.follow(
                    try await browser.post(
                        vendorPath,
                        [("name", "Hari Hardware"), ("location", "Birgunj")] + [
                            ("payoutAccount.type", "bank"), ("payoutAccount.bankName", "Nabil Bank"),
                            ("payoutAccount.accountName", "Hari Prasad"), ("payoutAccount.accountNumber", "0101-2233"),
                        ]))
                let ownApproval = try await browser.post(vendorPath + "/payout-change", [("decision", "approve")])
                let second = Browser(client)
                try await second.signIn("second@example.org", type(of: client).scenarioPassword)
                let waiting = try await second.get(vendorPath)
                let approved = try await second.follow(
                    try await second.post(vendorPath + "/payout-change", [("decision", "approve")]))
                let list = try await browser.get("/console/vendors?projectId=\(projectID)")
                // then
                #expect(missing.status == .badRequest)
                #expect(missing.html.contains(#"id="field-email-error""#), "\(missing)")
                #expect(missing.html.contains(#"id="field-payoutAccount-type-error""#))
                #expect(badIBAN.status == .badRequest, "\(badIBAN)")
                #expect(badIBAN.html.contains(#"id="field-payoutAccount-accountNumber-error""#), "\(badIBAN)")
                #expect(registered.mainText.contains("Hari Hardware is registered."), "\(registered.mainText)")
                #expect(registered.mainText.contains("eSewa"))
                #expect(assigned.mainText.contains("The vendor now serves the project."), "\(assigned.mainText)")
                #expect(assigned.mainText.contains("Projects served Flood relief"), "\(assigned.mainText)")
                #expect(changed.mainText.contains("applies once someone else approves it"), "\(changed.mainText)")
                #expect(changed.mainText.contains("New payout account waiting for approval"))
                #expect(!changed.html.contains(#"name="decision""#), "who asked cannot decide")
                #expect(ownApproval.location == vendorPath)
                #expect(waiting.html.contains(#"name="decision" value="approve""#), "\(waiting)")
                #expect(approved.mainText.contains("The new payout account applies now."), "\(approved.mainText)")
                #expect(approved.mainText.contains("Payout account Paid by Bank account Bank Nabil Bank"))
                #expect(!approved.mainText.contains("waiting for approval"))
                #expect(list.mainText.contains("Hari Hardware Birgunj Nabil Bank …2233"), "\(list.mainText)")
            }
        }

        @Test("a shop's login redeems: the code goes by SMS, a wrong one is refused by the field, the right one pays")
        func redeem() async throws {
            let smsFile = FileManager.default.temporaryDirectory
                .appendingPathComponent("rahat-sms-\(UUID().uuidString).jsonl").path
            defer { try? FileManager.default.removeItem(atPath: smsFile) }
            try await GatewayHarness.withEmbedded(.sqlite, configure: { $0.c2c.sms = .file(path: smsFile) }) {
                client in
                // given a paid project and a vendor serving it
                let projectID = try await Self.paidProject(client)
                let admin = try await client.login()
                let vendorID = try await Self.registerShop(client, serving: projectID, bearer: admin.access)
                let shop = Browser(client)
                try await shop.signIn("hari@example.org", "hari's long passphrase")
                // when the shop asks, once too much and once right
                let shopHome = try await shop.get("/console")
                let mine = try await shop.follow(try await shop.get("/console/vendors"))
                let home = try await shop.get("/console/redemptions")
                _ = try await shop.get("/console/redemptions/new")
                let tooMuch = try await shop.post(
                    "/console/redemptions", [("vendorId", vendorID), ("phone", "+9779812345600"), ("amount", "900")])
                let asked = try await shop.follow(
                    try await shop.post(
                        "/console/redemptions",
                        [("vendorId", vendorID), ("phone", "+9779812345600"), ("amount", "50.00")]))
                let path = try #require(shop.lastLocation, "\(asked)")
                let code = try Self.lastCode(in: smsFile)
                let wrong = try await shop.post(path + "/confirm", [("code", code == "000000" ? "111111" : "000000")])
                let confirmed = try await shop.follow(try await shop.post(path + "/confirm", [("code", code)]))
                let listed = try await shop.get("/console/redemptions")
                let settlements = try await shop.get("/console/settlements")
                let ledger = try await client.send(
                    .get, "/v1/redemptions?vendorId=\(vendorID)&status=confirmed", bearer: admin.access)
                // then
                #expect(shopHome.status == .ok, "a shop's home page: \(shopHome)")
                #expect(shopHome.mainText.contains("Flood relief"), "the project it serves: \(shopHome.mainText)")
                #expect(!shopHome.html.contains("/console/projects/"), "which it cannot open")
                #expect(mine.mainText.contains("Hari Hardware"), "\(mine.mainText)")
                #expect(mine.mainText.contains("Projects served Flood relief"), "\(mine.mainText)")
                #expect(!mine.html.contains("/edit"), "a shop does not edit itself")
                #expect(home.mainText.contains("Redemptions: Hari Hardware"), "\(home.mainText)")
                #expect(tooMuch.status == .badRequest, "\(tooMuch)")
                #expect(tooMuch.mainText.contains("There is a problem"), "\(tooMuch.mainText)")
                #expect(asked.mainText.contains("A code was sent to +977"), "\(asked.mainText)")
                #expect(asked.mainText.contains("NPR 50.00") || asked.mainText.contains("50.00"), "\(asked.mainText)")
                #expect(wrong.status == .badRequest, "\(wrong)")
                #expect(wrong.html.contains(#"id="field-code-error""#), "\(wrong)")
                #expect(
                    confirmed.mainText.contains("Confirmed: the amount is now the vendor's."), "\(confirmed.mainText)")
                #expect(!confirmed.html.contains(#"name="code""#))
                #expect(listed.mainText.contains("Confirmed"), "\(listed.mainText)")
                #expect(settlements.status == .ok, "a shop reads its settlements: \(settlements)")
                #expect(settlements.mainText.contains("Flood relief"), "\(settlements.mainText)")
                #expect((try ledger.json["items"] as? [Any])?.count == 1)
            }
        }

        @Test("a scoped manager sees the vendors of its project only, and cannot register one")
        func scoped() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                // given
                let admin = try await client.login()
                let projectA = try await client.createProject("A", bearer: admin.access)
                let projectB = try await client.createProject("B", bearer: admin.access)
                var ids: [String] = []
                for (name, email) in [("Shop A", "a@example.org"), ("Shop B", "b@example.org")] {
                    let vendor = try await client.send(
                        .post, "/v1/vendors",
                        json: [
                            "name": name, "email": email, "password": "a long shop passphrase",
                            "payoutAccount": [
                                "type": "mobile_money", "provider": "eSewa", "mobileNumber": "+9779811112222",
                            ],
                        ], bearer: admin.access)
                    ids.append(try #require(try vendor.json["id"] as? String, "\(vendor)"))
                }
                for (project, vendor) in zip([projectA, projectB], ids) {
                    _ = try await client.send(
                        .post, "/v1/projects/\(project)/vendors", json: ["vendorId": vendor], bearer: admin.access)
                }
                _ = try await client.createUser(
                    "manager@example.org", role: "manager", projectID: projectA, bearer: admin.access)
                let manager = Browser(client)
                try await manager.signIn("manager@example.org", type(of: client).scenarioPassword)
                // when
                let list = try await manager.get("/console/vendors")
                let asB = try await manager.get("/console/vendors?projectId=\(projectB)")
                let other = try await manager.get("/console/vendors/\(ids[1])")
                let register = try await manager.get("/console/vendors")
                // then
                #expect(list.mainText.contains("Shop A"), "\(list.mainText)")
                #expect(!list.mainText.contains("Shop B"))
                #expect(!asB.mainText.contains("Shop B"), "\(asB.mainText)")
                #expect(other.status == .notFound, "\(other)")
                #expect(!register.html.contains("/console/vendors/new"))
            }
        }
    }
}
