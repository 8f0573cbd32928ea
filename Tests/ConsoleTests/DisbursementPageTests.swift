import Foundation
import HTTPTypes
import HummingbirdTesting
import TestInfrastructure
import TestSupport
import Testing

extension ConsoleTests {
    /// Drafting from a dry run, M-of-N approval and payment, as the people involved see it.
    @Suite("Disbursements")
    struct Disbursements {
        /// An active project with three verified, enrolled people, 1,000.00 NPR in its fund and
        /// three approvers of whom two must approve; its id and the approvers' emails.
        static func fundedProject(
            _ client: any TestClientProtocol
        ) async throws -> (project: String, people: [String], approvers: [String]) {
            let admin = try await client.login()
            let projectID = try await client.createProject("Flood relief", bearer: admin.access)
            let people = try await client.send(
                .post, "/v1/beneficiaries/batch",
                json: [
                    "items": ["Sita Rai", "Maya Tamang", "Hari Magar"].enumerated().map { index, name in
                        ["name": name, "birthDate": "1980-02-03", "gender": "female", "phone": "+97798123456\(index)0"]
                    }
                ], bearer: admin.access)
            let ids = (try people.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
            try await client.enrol(ids, in: projectID, bearer: admin.access)
            _ = try await client.send(
                .post, "/v1/projects/\(projectID)/funding", json: ["amount": 100_000, "reference": "G-1"],
                bearer: admin.access)
            var approvers: [(id: String, email: String)] = []
            for index in 1...3 {
                let email = "approver\(index)@example.org"
                let user = try await client.createUser(
                    email, role: "manager", projectID: projectID, bearer: admin.access)
                approvers.append((user.id, email))
            }
            _ = try await client.send(
                .put, "/v1/projects/\(projectID)/approvers", json: ["userIds": approvers.map(\.id), "required": 2],
                bearer: admin.access)
            for _ in 0..<900 {
                let stats = try await client.send(.get, "/v1/projects/\(projectID)/stats", bearer: admin.access).json
                if (stats["byVerificationStatus"] as? [String: Int])?["verified"] == 3 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            return (projectID, ids, approvers.map(\.email))
        }

        @Test(
            "a manager drafts from a dry run, two of three approve, and the payment completes",
            arguments: DatabaseEngine.available)
        func approveAndPay(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                let (projectID, _, approvers) = try await Self.fundedProject(client)
                let manager = Browser(client)
                try await manager.signIn()
                _ = try await manager.get("/console/disbursements/new?projectId=\(projectID)")
                let reference = try #require(manager.lastPage.flatMap { Browser.field("reference", in: $0.html) })
                // when the manager plans and drafts it
                let tooPrecise = try await manager.postMultipart(
                    "/console/disbursements/preview",
                    [("reference", reference), ("projectId", projectID), ("name", "December"), ("amount", "200.005")])
                let preview = try await manager.postMultipart(
                    "/console/disbursements/preview",
                    [("reference", reference), ("projectId", projectID), ("name", "December"), ("amount", "200.00")])
                let hidden = ["projectId", "name", "reference", "amount"].map {
                    ($0, Browser.field($0, in: preview.html) ?? "")
                }
                let drafted = try await manager.post("/console/disbursements", hidden)
                let twice = try await manager.post("/console/disbursements", hidden)
                let id = try #require(drafted.location?.split(separator: "/").last.map(String.init), "\(drafted)")
                _ = try await manager.get("/console/disbursements/\(id)")
                let submitted = try await manager.follow(try await manager.post("/console/disbursements/\(id)/submit"))
                // and two approvers approve
                let first = Browser(client)
                try await first.signIn(approvers[0], type(of: client).scenarioPassword)
                let asked = try await first.get("/console/disbursements/\(id)")
                let approvedOnce = try await first.follow(
                    try await first.post("/console/disbursements/\(id)/approve", [("note", "Matches the roster.")]))
                let second = Browser(client)
                try await second.signIn(approvers[1], type(of: client).scenarioPassword)
                _ = try await second.get("/console/disbursements/\(id)")
                _ = try await second.post("/console/disbursements/\(id)/approve", [("note", "")])
                var done = try await manager.get("/console/disbursements/\(id)")
                for _ in 0..<600 where !done.mainText.contains("Completed") {
                    try await Task.sleep(for: .milliseconds(100))
                    done = try await manager.get("/console/disbursements/\(id)")
                }
                let stream = try await manager.get("/console/disbursements/\(id)/progress")
                // and an approver, who manages this project only, lists disbursements
                let other = try await client.createProject("Elsewhere", bearer: try await client.login().access)
                let listed = try await first.get("/console/disbursements")
                let elsewhere = try await first.get("/console/disbursements?projectId=\(other)")
                // then
                #expect(tooPrecise.status == .badRequest)
                #expect(tooPrecise.mainText.contains("at most 2 decimal places"), "\(tooPrecise)")
                #expect(preview.status == .ok, "\(preview)")
                #expect(preview.mainText.contains("600.00 NPR"), "\(preview.mainText)")
                #expect(preview.mainText.contains("1,000.00 NPR"))
                #expect(drafted.status == .seeOther)
                #expect(twice.location == drafted.location, "the same reference drafts once")
                #expect(submitted.mainText.contains("Waiting for approval"), "\(submitted)")
                #expect(submitted.mainText.contains("0 of 2 approvals; 2 more needed."))
                #expect(!submitted.html.contains("/approve\""), "its creator is offered no approval")
                #expect(asked.html.contains("/console/disbursements/\(id)/approve"))
                #expect(approvedOnce.mainText.contains("1 of 2 approvals; 1 more needed."), "\(approvedOnce)")
                #expect(approvedOnce.mainText.contains("Matches the roster."))
                #expect(!approvedOnce.html.contains("/approve\""), "one approval per approver")
                #expect(done.mainText.contains("Completed"), "\(done.mainText)")
                #expect(done.mainText.contains("3 paid, 0 failed, of 3"), "\(done.mainText)")
                #expect(done.mainText.contains("2 of 2 approvals"))
                #expect(stream.headers[.contentType] == "text/event-stream; charset=utf-8")
                #expect(stream.html.contains("event: progress"))
                #expect(stream.html.contains("\"done\":true"), "\(stream.html)")
                #expect(listed.status == .ok, "\(listed)")
                #expect(listed.mainText.contains("December"), "their project's list: \(listed.mainText)")
                #expect(elsewhere.status == .ok, "\(elsewhere)")
                #expect(elsewhere.mainText.contains("December"), "a project beyond reach is not listed")
                #expect(!elsewhere.html.contains("<option value=\"\(other)\""), "nor offered")
            }
        }

        @Test("amounts from a CSV: planned, kept between the dry run and the draft, then rejected with a note")
        func csvAndReject() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let (projectID, people, approvers) = try await Self.fundedProject(client)
                let manager = Browser(client)
                try await manager.signIn()
                _ = try await manager.get("/console/disbursements/new")
                let csv = "beneficiaryId,amount\n\(people[0]),15000\n\(people[1]),25000\n"
                // when
                let preview = try await manager.postMultipart(
                    "/console/disbursements/preview", [("projectId", projectID), ("name", "Top-up")],
                    files: [("file", "amounts.csv", csv)])
                let hidden = ["projectId", "name", "reference", "upload"].map {
                    ($0, Browser.field($0, in: preview.html) ?? "")
                }
                let draft = try await manager.follow(try await manager.post("/console/disbursements", hidden))
                let reused = try await manager.post(
                    "/console/disbursements", hidden.map { $0.0 == "reference" ? ($0.0, "other") : $0 })
                let id = try #require(
                    draft.html.range(of: #"/console/disbursements/[0-9a-f-]{36}/submit"#, options: .regularExpression)
                        .map { String(draft.html[$0]).split(separator: "/")[2] })
                _ = try await manager.post("/console/disbursements/\(id)/submit")
                let approver = Browser(client)
                try await approver.signIn(approvers[2], type(of: client).scenarioPassword)
                _ = try await approver.get("/console/disbursements/\(id)")
                let noNote = try await approver.follow(
                    try await approver.post("/console/disbursements/\(id)/reject", [("note", "")]))
                let rejected = try await approver.follow(
                    try await approver.post("/console/disbursements/\(id)/reject", [("note", "Amounts not agreed.")]))
                // then
                #expect(preview.status == .ok, "\(preview)")
                #expect(preview.mainText.contains("400.00 NPR"), "\(preview.mainText)")
                #expect(draft.mainText.contains("Draft"), "\(draft)")
                #expect(reused.status == .badRequest, "the file is taken with the first draft: \(reused)")
                #expect(noNote.mainText.contains("Say why it is rejected."))
                #expect(rejected.mainText.contains("Rejected"), "\(rejected)")
                #expect(rejected.mainText.contains("Amounts not agreed."))
            }
        }
    }
}
