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
    /// Settling with a vendor: the run, the payout file for the bank, the bank's answer.
    @Suite("Settlements")
    struct Settlements {
        @Test("a vendor's confirmed redemption is settled: run, pain.001 downloaded, paid recorded")
        func settle() async throws {
            let smsFile = FileManager.default.temporaryDirectory
                .appendingPathComponent("rahat-sms-\(UUID().uuidString).jsonl").path
            defer { try? FileManager.default.removeItem(atPath: smsFile) }
            try await GatewayHarness.withEmbedded(.sqlite, configure: { $0.c2c.sms = .file(path: smsFile) }) {
                client in
                // given a paid disbursement and a redemption confirmed with the SMS code
                let projectID = try await Vendors.paidProject(client)
                let admin = try await client.login()
                let vendorID = try await Vendors.registerShop(client, serving: projectID, bearer: admin.access)
                let shop = try await client.login("hari@example.org", "hari's long passphrase")
                let requested = try await client.send(
                    .post, "/v1/redemptions", json: ["vendorId": vendorID, "phone": "+9779812345600", "amount": 5_000],
                    bearer: shop.access)
                let redemptionID = try #require(try requested.json["id"] as? String, "\(requested)")
                let code = try Vendors.lastCode(in: smsFile)
                let confirmed = try await client.send(
                    .post, "/v1/redemptions/\(redemptionID)/confirm", json: ["code": code], bearer: shop.access)
                #expect(confirmed.status == .ok, "\(confirmed)")
                let browser = Browser(client)
                try await browser.signIn()
                // when
                _ = try await browser.get("/console/settlements?projectId=\(projectID)")
                let started = try await browser.follow(
                    try await browser.post("/console/settlements", [("projectId", projectID)]))
                let path = try #require(
                    started.html.range(of: #"/console/settlements/[0-9a-f-]{36}"#, options: .regularExpression)
                        .map { String(started.html[$0]) }, "\(started)")
                var page = try await browser.get(path)
                var pain = try await browser.get(path + "/payout-file?format=pain.001")
                for _ in 0..<300 where pain.status != .ok {
                    try await Task.sleep(for: .milliseconds(100))
                    pain = try await browser.get(path + "/payout-file?format=pain.001")
                }
                let csv = try await browser.get(path + "/payout-file?format=csv")
                page = try await browser.get(path)
                let noReference = try await browser.follow(
                    try await browser.post(path + "/answer", [("status", "paid")]))
                let paid = try await browser.follow(
                    try await browser.post(path + "/answer", [("status", "paid"), ("payoutReference", "ESEWA-991")]))
                // then
                #expect(started.mainText.contains("1 settlements were started"), "\(started.mainText)")
                #expect(started.mainText.contains("Hari Hardware"))
                #expect(pain.status == .ok, "\(pain)")
                #expect(pain.headers[.contentType] == "application/xml; charset=utf-8")
                #expect(pain.headers[.contentDisposition]?.contains(".pain.001.xml") == true)
                #expect(pain.html.contains("pain.001.001.09"), "\(pain.html.prefix(400))")
                #expect(pain.html.contains("<InstdAmt Ccy=\"NPR\">50.00</InstdAmt>"), "\(pain.html)")
                #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
                #expect(csv.html.contains("Hari Hardware"))
                #expect(page.mainText.contains("With the bank"), "\(page.mainText)")
                #expect(noReference.mainText.contains("Give the bank's payout reference."))
                #expect(paid.mainText.contains("Recorded as paid."), "\(paid.mainText)")
                #expect(paid.mainText.contains("ESEWA-991"))
            }
        }
    }
}
