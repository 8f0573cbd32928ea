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
    @Suite("Disbursements over HTTP")
    struct Disbursements {
        @Test(
            "a dry run answers the plan, a draft is created and listed, and bad requests name their fields",
            arguments: DatabaseEngine.available)
        func disbursements(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                // given an active project with one enrolled (unverified) beneficiary and a funded fund
                let admin = try await client.login()
                let project = try await client.send(
                    .post, "/v1/projects",
                    json: ["name": "Flood relief", "type": "c2c", "asset": "NPR", "assetScale": 2],
                    bearer: admin.access)
                let projectID = try #require(try project.json["id"] as? String, "\(project)")
                _ = try await client.send(.post, "/v1/projects/\(projectID)/activate", bearer: admin.access)
                let person = try await client.send(
                    .post, "/v1/beneficiaries", json: ["name": "Sita Rai", "gender": "female"], bearer: admin.access)
                let personID = try #require(try person.json["id"] as? String, "\(person)")
                _ = try await client.send(
                    .post, "/v1/projects/\(projectID)/beneficiaries", json: ["beneficiaryIds": [personID]],
                    bearer: admin.access)
                _ = try await client.send(
                    .post, "/v1/projects/\(projectID)/funding", json: ["amount": 10_000, "reference": "G-1"],
                    bearer: admin.access)

                // when
                let plan = try await client.send(
                    .post, "/v1/disbursements?dryRun=true",
                    json: ["projectId": projectID, "name": "November", "amountPerBeneficiary": 500],
                    bearer: admin.access)
                let nobody = try await client.send(
                    .post, "/v1/disbursements",
                    json: ["projectId": projectID, "name": "November", "amountPerBeneficiary": 500],
                    bearer: admin.access)
                let invalid = try await client.send(
                    .post, "/v1/disbursements",
                    json: [
                        "projectId": projectID, "name": "Both", "amountPerBeneficiary": 5,
                        "lines": [["beneficiaryId": personID, "amount": 5]],
                    ],
                    bearer: admin.access)
                let missing = try await client.send(.get, "/v1/disbursements/\(UUID())", bearer: admin.access)
                // the same amounts as a CSV: planned, then refused row by row when rows are bad
                let csv: HTTPFields = [.contentType: "text/csv"]
                let planned = try await client.send(
                    .post, "/v1/disbursements?dryRun=true&projectId=\(projectID)&name=Payroll",
                    raw: "beneficiary_id,amount,note\r\n\(personID),700,\"first, and only\"\r\n\r\n",
                    bearer: admin.access,
                    headers: csv)
                let badRows = try await client.send(
                    .post, "/v1/disbursements?projectId=\(projectID)&name=Payroll",
                    raw: "beneficiaryId,amount\n\(personID),12.50\nnot-an-id,100\n", bearer: admin.access,
                    headers: csv)
                let twice = try await client.send(
                    .post, "/v1/disbursements?dryRun=true&projectId=\(projectID)&name=Payroll",
                    raw: "beneficiaryId,amount\n\(personID),100\n\(personID),100\n", bearer: admin.access,
                    headers: csv)
                let noHeader = try await client.send(
                    .post, "/v1/disbursements?projectId=\(projectID)&name=Payroll",
                    raw: "\(personID),100\n", bearer: admin.access, headers: csv)
                let noProject = try await client.send(
                    .post, "/v1/disbursements?name=Payroll", raw: "beneficiaryId,amount\n\(personID),100\n",
                    bearer: admin.access, headers: csv)
                let listed = try await client.send(
                    .get, "/v1/disbursements?projectId=\(projectID)&status=draft", bearer: admin.access)

                // then
                #expect(plan.status == .ok, "\(plan)")
                #expect(planned.status == .ok, "\(planned)")
                #expect((try planned.json["excludedCounts"] as? [String: Int])?["unverified"] == 1, "\(planned)")
                #expect(badRows.status == .badRequest, "\(badRows)")
                #expect(badRows.problemFields == ["line 2.amount", "line 3.beneficiaryId"], "\(badRows)")
                #expect(twice.status == .badRequest && twice.problemFields == ["line 3.beneficiaryId"], "\(twice)")
                #expect(noHeader.status == .badRequest && noHeader.problemFields == ["line 1"], "\(noHeader)")
                #expect(noProject.status == .badRequest && noProject.problemFields == ["projectId"], "\(noProject)")
                #expect(try plan.json["lineCount"] as? Int == 0)
                #expect(try plan.json["fundBalance"] as? Int == 10_000)
                #expect((try plan.json["excludedCounts"] as? [String: Int])?["unverified"] == 1)
                #expect(
                    (try plan.json["excluded"] as? [[String: Any]])?.first?["reason"] as? String == "unverified")
                #expect(nobody.status == .badRequest && nobody.problemFields == ["amountPerBeneficiary"], "\(nobody)")
                #expect(invalid.status == .badRequest && invalid.problemFields == ["lines"], "\(invalid)")
                #expect(missing.status == .notFound && missing.problemCode == "disbursement.not_found")
                #expect(listed.status == .ok, "\(listed)")
                #expect((try listed.json["items"] as? [Any])?.isEmpty == true)
            }
        }
        @Test(
            "the embedded platform pays a disbursement end to end: approvals, jobs, ledger, receipts, a redemption by SMS code",
            arguments: DatabaseEngine.available)
        func execution(engine: DatabaseEngine) async throws {
            let smsFile = FileManager.default.temporaryDirectory
                .appendingPathComponent("rahat-sms-\(UUID().uuidString).jsonl").path
            defer { try? FileManager.default.removeItem(atPath: smsFile) }
            try await GatewayHarness.withEmbedded(engine, configure: { $0.c2c.sms = .file(path: smsFile) }) { client in
                // given an active, funded project; three people registered, checked by the
                // platform's own KYC jobs and enrolled; two approvers besides the admin
                let admin = try await client.login()
                let project = try await client.send(
                    .post, "/v1/projects",
                    json: ["name": "Flood relief", "type": "c2c", "asset": "NPR", "assetScale": 2],
                    bearer: admin.access)
                let projectID = try #require(try project.json["id"] as? String, "\(project)")
                _ = try await client.send(.post, "/v1/projects/\(projectID)/activate", bearer: admin.access)
                let people = try await client.send(
                    .post, "/v1/beneficiaries/batch",
                    json: [
                        "items": ["Sita Rai", "Maya Tamang", "Hari Magar"].enumerated().map { index, name in
                            [
                                "name": name, "birthDate": "1980-02-03", "gender": "female",
                                "phone": "+97798123456\(index)0",
                            ]
                        }
                    ], bearer: admin.access)
                let ids = (try people.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
                #expect(ids.count == 3, "\(people)")
                _ = try await client.send(
                    .post, "/v1/projects/\(projectID)/beneficiaries", json: ["beneficiaryIds": ids],
                    bearer: admin.access)
                _ = try await client.send(
                    .post, "/v1/projects/\(projectID)/funding", json: ["amount": 100_000, "reference": "G-1"],
                    bearer: admin.access)
                var approvers: [(id: String, access: String)] = []
                for index in 1...2 {
                    let user = try await client.send(
                        .post, "/v1/users",
                        json: [
                            "name": "Approver \(index)", "email": "approver\(index)@example.org",
                            "password": "another long passphrase",
                            "roles": [["role": "manager", "projectId": projectID]],
                        ], bearer: admin.access)
                    let id = try #require(try user.json["id"] as? String, "\(user)")
                    let tokens = try await client.login("approver\(index)@example.org", "another long passphrase")
                    approvers.append((id, tokens.access))
                }
                _ = try await client.send(
                    .put, "/v1/projects/\(projectID)/approvers",
                    json: ["userIds": approvers.map(\.id), "required": 2], bearer: admin.access)
                // Polled for up to 90 s: the whole suite shares two cores.
                var stats: [String: Any] = [:]
                for _ in 0..<900 {
                    stats = try await client.send(.get, "/v1/projects/\(projectID)/stats", bearer: admin.access).json
                    if (stats["byVerificationStatus"] as? [String: Int])?["verified"] == 3 { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect((stats["byVerificationStatus"] as? [String: Int])?["verified"] == 3, "\(stats)")

                // when
                let body: [String: Any] = [
                    "projectId": projectID, "name": "November", "amountPerBeneficiary": 20_000, "reference": "NOV-1",
                ]
                let draft = try await client.send(.post, "/v1/disbursements", json: body, bearer: admin.access)
                let again = try await client.send(.post, "/v1/disbursements", json: body, bearer: admin.access)
                let id = try #require(try draft.json["id"] as? String, "\(draft)")
                _ = try await client.send(.post, "/v1/disbursements/\(id)/submit", bearer: admin.access)
                for approver in approvers {
                    let approved = try await client.send(
                        .post, "/v1/disbursements/\(id)/approve", json: ["note": "ok"], bearer: approver.access)
                    #expect(approved.status == .ok, "\(approved)")
                }
                var done: [String: Any] = [:]
                for _ in 0..<900 {
                    done = try await client.send(.get, "/v1/disbursements/\(id)", bearer: admin.access).json
                    if done["status"] as? String == "completed" { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                for _ in 0..<900 {
                    stats = try await client.send(.get, "/v1/projects/\(projectID)/stats", bearer: admin.access).json
                    if stats["receivedTotal"] as? Int == 60_000 { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                let lines = try await client.send(.get, "/v1/disbursements/\(id)/lines", bearer: admin.access)
                let books = try await client.send(
                    .get, "/v1/projects/\(projectID)/reconciliation", bearer: admin.access)

                // then
                #expect(draft.status == .created, "\(draft)")
                #expect(again.status == .ok, "\(again)")
                #expect(try again.json["replayed"] as? Bool == true)
                #expect(try again.json["id"] as? String == id)
                #expect(done["status"] as? String == "completed", "\(done)")
                #expect(done["amountCompleted"] as? Int == 60_000)
                let items = try lines.json["items"] as? [[String: Any]] ?? []
                #expect(items.count == 3 && items.allSatisfy { $0["status"] as? String == "completed" })
                #expect(stats["receivedTotal"] as? Int == 60_000, "\(stats)")
                #expect(stats["beneficiariesReceived"] as? Int == 3)
                #expect(try books.json["disbursed"] as? Int == 60_000, "\(books)")
                #expect(try books.json["remaining"] as? Int == 40_000, "\(books)")

                // and the first of them redeems 5,000 at a vendor with the code the SMS carried
                let vendor = try await client.send(
                    .post, "/v1/vendors",
                    json: [
                        "name": "Hari Hardware", "email": "hari@example.org", "password": "hari's long passphrase",
                        "payoutAccount": [
                            "type": "mobile_money", "provider": "eSewa", "mobileNumber": "+9779811112222",
                        ],
                    ], bearer: admin.access)
                let vendorID = try #require(try vendor.json["id"] as? String, "\(vendor)")
                _ = try await client.send(
                    .post, "/v1/projects/\(projectID)/vendors", json: ["vendorId": vendorID], bearer: admin.access)
                let shop = try await client.login("hari@example.org", "hari's long passphrase")
                let requested = try await client.send(
                    .post, "/v1/redemptions",
                    json: ["vendorId": vendorID, "phone": "+9779812345600", "amount": 5_000], bearer: shop.access)
                let redemptionID = try #require(try requested.json["id"] as? String, "\(requested)")
                let sent = try String(contentsOfFile: smsFile, encoding: .utf8).split(separator: "\n")
                let message = try JSONSerialization.jsonObject(with: Data((sent.last ?? "").utf8)) as? [String: Any]
                let text = message?["body"] as? String ?? ""
                let code = try #require(
                    text.split(whereSeparator: { !$0.isNumber }).first(where: { $0.count == 6 }).map(String.init),
                    "\(text)")
                let wrong = try await client.send(
                    .post, "/v1/redemptions/\(redemptionID)/confirm", json: ["code": "12345"], bearer: shop.access)
                let confirmed = try await client.send(
                    .post, "/v1/redemptions/\(redemptionID)/confirm", json: ["code": code], bearer: shop.access)
                let settledBooks = try await client.send(
                    .get, "/v1/projects/\(projectID)/reconciliation", bearer: admin.access)

                #expect(requested.status == .created, "\(requested)")
                #expect(try requested.json["phoneHint"] as? String == "+977*******600")
                #expect(message?["to"] as? String == "+9779812345600")
                #expect(text.contains("NPR 50.00"), "\(text)")
                #expect(wrong.status == .badRequest && wrong.problemFields == ["code"], "\(wrong)")
                #expect(confirmed.status == .ok, "\(confirmed)")
                #expect(try confirmed.json["status"] as? String == "confirmed")
                #expect(try confirmed.json["transferId"] is String)
                #expect(try settledBooks.json["balanced"] as? Bool == true, "\(settledBooks)")

                // and the vendor is settled: a run, its payout file, the bank's answer
                let run = try await client.send(
                    .post, "/v1/settlements", json: ["projectId": projectID], bearer: admin.access)
                let settlementID = try #require(
                    (try run.json["settlements"] as? [[String: Any]])?.first?["id"] as? String, "\(run)")
                var settlement: [String: Any] = [:]
                for _ in 0..<900 {
                    settlement = try await client.send(.get, "/v1/settlements/\(settlementID)", bearer: admin.access)
                        .json
                    if settlement["status"] as? String == "processing" { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                // The file is the job's last step, after the move to clearing.
                var painFile = try await client.send(
                    .get, "/v1/settlements/\(settlementID)/payout-file?format=pain.001", bearer: admin.access)
                for _ in 0..<300 where painFile.status == .conflict {
                    try await Task.sleep(for: .milliseconds(100))
                    painFile = try await client.send(
                        .get, "/v1/settlements/\(settlementID)/payout-file?format=pain.001", bearer: admin.access)
                }
                let csvFile = try await client.send(
                    .get, "/v1/settlements/\(settlementID)/payout-file?format=csv", bearer: admin.access)
                let badFormat = try await client.send(
                    .get, "/v1/settlements/\(settlementID)/payout-file?format=pdf", bearer: admin.access)
                let paid = try await client.send(
                    .post, "/v1/settlements/\(settlementID)/confirm",
                    json: ["status": "paid", "payoutReference": "NABIL-2026-11-0042"], bearer: admin.access)
                let finalBooks = try await client.send(
                    .get, "/v1/projects/\(projectID)/reconciliation", bearer: admin.access)

                #expect(run.status == .accepted, "\(run)")
                #expect(settlement["status"] as? String == "processing", "\(settlement)")
                #expect(settlement["amount"] as? Int == 5_000)
                #expect(painFile.status == .ok, "\(painFile)")
                #expect(painFile.headers[.contentType] == "application/xml")
                #expect(
                    painFile.headers[.contentDisposition]?.hasPrefix("attachment; filename=") == true,
                    "\(painFile.headers)")
                #expect(String(decoding: painFile.body, as: UTF8.self).contains("<CtrlSum>50.00</CtrlSum>"))
                #expect(csvFile.status == .ok && csvFile.headers[.contentType] == "text/csv", "\(csvFile)")
                #expect(badFormat.status == .badRequest, "\(badFormat)")
                #expect(paid.status == .ok, "\(paid)")
                #expect(try paid.json["status"] as? String == "paid")
                #expect(try finalBooks.json["balanced"] as? Bool == true, "\(finalBooks)")

                // and the project's vendors are settled every Friday at 17:00 in Kathmandu
                let schedulePath = "/v1/projects/\(projectID)/settlement-schedule"
                let noSchedule = try await client.send(.get, schedulePath, bearer: admin.access)
                let badSchedule = try await client.send(
                    .put, schedulePath, json: ["cadence": "weekly", "at": "5pm", "timeZone": "Asia/Kathmandhu"],
                    bearer: admin.access)
                let vendorSchedule = try await client.send(
                    .put, schedulePath, json: ["cadence": "daily", "at": "17:00"], bearer: shop.access)
                let scheduled = try await client.send(
                    .put, schedulePath,
                    json: ["cadence": "weekly", "at": "17:00", "weekday": "friday", "timeZone": "Asia/Kathmandu"],
                    bearer: admin.access)
                let schedule = try await client.send(.get, schedulePath, bearer: admin.access)
                let unscheduled = try await client.send(.delete, schedulePath, bearer: admin.access)
                let gone = try await client.send(.get, schedulePath, bearer: admin.access)

                #expect(noSchedule.status == .notFound, "\(noSchedule)")
                #expect(badSchedule.status == .badRequest, "\(badSchedule)")
                #expect(Set(badSchedule.problemFields) == ["at", "weekday", "timeZone"], "\(badSchedule)")
                #expect(vendorSchedule.status == .forbidden, "\(vendorSchedule)")
                #expect(scheduled.status == .ok, "\(scheduled)")
                #expect(try schedule.json["weekday"] as? String == "friday", "\(schedule)")
                #expect(try schedule.json["timeZone"] as? String == "Asia/Kathmandu")
                // 17:00 at +05:45 is 11:15 UTC, on a Friday
                let nextRun = try #require(try schedule.json["nextRunAt"] as? String, "\(schedule)")
                let nextDate = try #require(try? Date(nextRun, strategy: .iso8601), "\(nextRun)")
                var utc = Calendar(identifier: .gregorian)
                utc.timeZone = .gmt
                let parts = utc.dateComponents([.weekday, .hour, .minute], from: nextDate)
                #expect(parts.weekday == 6 && parts.hour == 11 && parts.minute == 15, "\(nextRun)")
                #expect(unscheduled.status == .noContent, "\(unscheduled)")
                #expect(gone.status == .notFound, "\(gone)")
            }
        }
    }
}
