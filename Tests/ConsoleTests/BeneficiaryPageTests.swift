import Foundation
import HTTPTypes
import HummingbirdTesting
import TestInfrastructure
import TestSupport
import Testing

extension ConsoleTests {
    /// The register, a person's page, searching, editing, archiving, and the review queue.
    @Suite("Beneficiaries")
    struct Beneficiaries {
        @Test("register, find by phone, edit and archive someone", arguments: DatabaseEngine.available)
        func lifecycle(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                let browser = Browser(client)
                try await browser.signIn()
                _ = try await browser.get("/console/beneficiaries/new")
                // when
                let invalid = try await browser.post(
                    "/console/beneficiaries", [("name", "Sita Tharu"), ("phone", "not a phone"), ("gender", "female")])
                let registered = try await browser.post(
                    "/console/beneficiaries",
                    [
                        ("name", "Sita Tharu"), ("phone", "9812345678"), ("country", "NP"), ("gender", "female"),
                        ("location", "Bardiya"),
                    ])
                let person = try await browser.follow(registered)
                let id = try #require(registered.location?.split(separator: "/").last.map(String.init))
                let register = try await browser.get("/console/beneficiaries")
                let found = try await browser.post("/console/beneficiaries/search", [("phone", "+977 981-2345678")])
                let nobody = try await browser.post("/console/beneficiaries/search", [("nationalId", "XYZ-000")])
                let byName = try await browser.post("/console/beneficiaries/search", [("name", "tharu SITA")])
                let noCriterion = try await browser.post("/console/beneficiaries/search", [("country", "NP")])
                _ = try await browser.get("/console/beneficiaries/\(id)/edit")
                let unchanged = try await browser.follow(
                    try await browser.post(
                        "/console/beneficiaries/\(id)",
                        [
                            ("name", "Sita Tharu"), ("phone", "+9779812345678"), ("location", "Bardiya"),
                            ("gender", "female"),
                        ]))
                let edited = try await browser.follow(
                    try await browser.post(
                        "/console/beneficiaries/\(id)",
                        [
                            ("name", "Sita Kumari Tharu"), ("phone", "+9779812345678"), ("location", ""),
                            ("gender", "female"),
                        ]))
                let archived = try await browser.follow(try await browser.post("/console/beneficiaries/\(id)/archive"))
                let gone = try await browser.get("/console/beneficiaries/\(id)")
                // then
                #expect(invalid.status == .badRequest)
                #expect(invalid.html.contains("id=\"field-phone-error\""), "\(invalid)")
                #expect(invalid.html.contains("value=\"Sita Tharu\""), "what was typed is kept")
                #expect(person.mainText.contains("Sita Tharu"))
                #expect(person.mainText.contains("+9779812345678"))
                #expect(person.mainText.contains("The beneficiary was registered"))
                #expect(register.mainText.contains("Sita Tharu"))
                #expect(register.mainText.contains("•••••••••5678"), "lists mask the phone: \(register.mainText)")
                #expect(!register.html.contains("9812345678"))
                #expect(found.status == .ok)
                #expect(found.mainText.contains("Sita Tharu"), "\(found)")
                #expect(found.headers[.cacheControl] == "no-store")
                #expect(nobody.mainText.contains("Nobody was found."))
                #expect(byName.mainText.contains("Sita Tharu"), "\(byName)")
                #expect(noCriterion.status == .badRequest)
                #expect(noCriterion.html.contains("id=\"field-name-error\""), "\(noCriterion)")
                #expect(unchanged.mainText.contains("Nothing was changed."), "\(unchanged)")
                #expect(edited.mainText.contains("Sita Kumari Tharu"))
                #expect(!edited.mainText.contains("Bardiya"), "an emptied field is cleared")
                #expect(archived.mainText.contains("The beneficiary was archived."))
                #expect(gone.status == .notFound)
            }
        }

        @Test("a search by name pages by posting its cursor; a project's manager searches that project only")
        func nameSearch() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                // given 52 people named Kamala, two of them in the manager's project, one in another
                let admin = try await client.login()
                let mine = try await client.createProject("Terai", bearer: admin.access)
                let other = try await client.createProject("Karnali", bearer: admin.access)
                let batch = try await client.send(
                    .post, "/v1/beneficiaries/batch",
                    json: ["items": (1...52).map { ["name": "Kamala Devi \($0)", "gender": "female"] }],
                    bearer: admin.access)
                let ids = try #require(
                    (try batch.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String })
                try await client.enrol(Array(ids[0..<2]), in: mine, bearer: admin.access)
                try await client.enrol([ids[2]], in: other, bearer: admin.access)
                _ = try await client.createUser(
                    "manager@example.org", role: "manager", projectID: mine, bearer: admin.access)
                let browser = Browser(client)
                try await browser.signIn()
                let manager = Browser(client)
                try await manager.signIn("manager@example.org", type(of: client).scenarioPassword)
                // when
                _ = try await browser.get("/console/beneficiaries")
                let first = try await browser.post("/console/beneficiaries/search", [("name", "devi kamala")])
                // the next page is asked for with exactly what the page's pager form sends
                let pager = try #require(
                    first.html.range(of: #"<nav class="pager"[\s\S]*?</form>"#, options: .regularExpression)
                        .map { String(first.html[$0]) })
                let sent = try NSRegularExpression(pattern: #"name="([^"]*)" value="([^"]*)""#)
                    .matches(in: pager, range: NSRange(pager.startIndex..., in: pager)).compactMap { match in
                        Range(match.range(at: 1), in: pager).flatMap { name in
                            Range(match.range(at: 2), in: pager).map { value in
                                (String(pager[name]), Self.unescaped(String(pager[value])))
                            }
                        }
                    }
                let second = try await browser.post("/console/beneficiaries/search", sent, csrf: false)
                let register = try await manager.get("/console/beneficiaries")
                let scoped = try await manager.post("/console/beneficiaries/search", [("name", "kamala")])
                let elsewhere = try await manager.post(
                    "/console/beneficiaries/search", [("name", "kamala"), ("projectId", other)])
                // then
                #expect(first.status == .ok, "\(first)")
                #expect(first.html.components(separatedBy: "<td><a href=\"/console/beneficiaries/").count - 1 == 50)
                #expect(!first.html.contains("cursor="), "a search's next page is posted, not linked")
                #expect(Set(sent.map(\.0)) == ["_csrf", "name", "cursor"], "\(sent)")
                #expect(second.status == .ok, "\(second)")
                #expect(second.html.components(separatedBy: "<td><a href=\"/console/beneficiaries/").count - 1 == 2)
                #expect(Browser.field("cursor", in: second.html) == nil, "\(second)")
                #expect(register.status == .ok, "a scoped manager's register lists their project: \(register)")
                #expect(register.mainText.contains("Kamala Devi 1"))
                #expect(!register.mainText.contains("Kamala Devi 3"))
                #expect(scoped.status == .ok, "\(scoped)")
                #expect(scoped.mainText.contains("Kamala Devi 1"))
                #expect(scoped.mainText.contains("Kamala Devi 2"))
                #expect(!scoped.mainText.contains("Kamala Devi 3"), "\(scoped.mainText)")
                #expect(scoped.html.contains("<option value=\"\(mine)\""), "their project is offered")
                #expect(!scoped.html.contains("<option value=\"\(other)\""), "the other project is not")
                #expect(elsewhere.status == .ok, "\(elsewhere)")
                #expect(elsewhere.mainText.contains("Kamala Devi 1"), "their own project is searched instead")
                #expect(!elsewhere.mainText.contains("Kamala Devi 3"), "asking for another project is not obeyed")
            }
        }

        /// An attribute value as the template escaped it, read back.
        static func unescaped(_ text: String) -> String {
            [
                ("&quot;", "\""), ("&#39;", "'"), ("&#61;", "="), ("&#x2F;", "/"), ("&lt;", "<"), ("&gt;", ">"),
                ("&amp;", "&"),
            ]
            .reduce(text) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
        }

        @Test("an auditor reads the register without personal data and without write buttons")
        func auditor() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let admin = try await client.login()
                let id = try await client.createBeneficiary(
                    ["name": "Hari Bahadur", "phone": "+9779800000001"], bearer: admin.access)
                _ = try await client.createUser("auditor@example.org", role: "auditor", bearer: admin.access)
                let browser = Browser(client)
                try await browser.signIn("auditor@example.org", type(of: client).scenarioPassword)
                // when
                let register = try await browser.get("/console/beneficiaries")
                let person = try await browser.get("/console/beneficiaries/\(id)")
                let form = try await browser.get("/console/beneficiaries/new")
                let posted = try await browser.post("/console/beneficiaries", [("name", "Not allowed")])
                // then
                #expect(register.status == .ok)
                #expect(register.mainText.contains("(personal data hidden)"), "\(register)")
                #expect(!register.html.contains("Hari Bahadur"))
                #expect(!register.html.contains("Register a beneficiary"))
                #expect(!register.html.contains("/console/beneficiaries/search"), "no search by personal data")
                #expect(person.status == .ok)
                #expect(!person.html.contains("Hari Bahadur"))
                #expect(!person.html.contains("9800000001"))
                #expect(!person.html.contains("/archive"))
                #expect(!person.html.contains("/edit"))
                #expect(form.status == .ok, "the form itself holds nothing")
                #expect(posted.status == .forbidden, "the API refuses: \(posted)")
            }
        }

        @Test("a reviewer decides a case that needs review, with a note")
        func review() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let admin = try await client.login()
                _ = try await client.send(
                    .put, "/v1/verification/watch-list?fileName=list.csv",
                    raw: "nationalId,reason\n55-1234-5678,court order\n",
                    bearer: admin.access, headers: [.contentType: "text/csv"])
                let id = try await client.createBeneficiary(
                    ["name": "Pemba Sherpa", "nationalId": "5512345678", "birthDate": "1990-05-01"],
                    bearer: admin.access)
                var status = ""
                for _ in 0..<300 {
                    let person = try await client.send(.get, "/v1/beneficiaries/\(id)", bearer: admin.access)
                    status = try person.json["verificationStatus"] as? String ?? ""
                    if status != "pending" { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(status == "needs_review")
                let browser = Browser(client)
                try await browser.signIn()
                // when
                let home = try await browser.get("/console")
                let queue = try await browser.get("/console/verifications")
                let runLink = try #require(
                    queue.html.range(of: #"/console/verifications/[0-9a-f-]{36}"#, options: .regularExpression)
                        .map { String(queue.html[$0]) })
                let run = try await browser.get(runLink)
                let noNote = try await browser.post(runLink + "/decision", [("decision", "rejected"), ("note", "")])
                let decided = try await browser.follow(
                    try await browser.post(
                        runLink + "/decision", [("decision", "rejected"), ("note", "Listed; ID matches.")]))
                let after = try await browser.get(runLink)
                let homeAfter = try await browser.get("/console")
                // then
                #expect(home.mainText.contains("1 verification cases wait for a decision."), "\(home.mainText)")
                #expect(!homeAfter.mainText.contains("wait for a decision"), "\(homeAfter.mainText)")
                #expect(queue.mainText.contains("Pemba Sherpa"), "\(queue)")
                #expect(run.mainText.contains("matches watch-list line 2 by national ID"), "\(run)")
                #expect(run.html.contains("value=\"verified\""))
                #expect(noNote.status == .badRequest)
                #expect(noNote.mainText.contains("Say why"))
                #expect(decided.mainText.contains("The beneficiary is rejected."), "\(decided)")
                #expect(decided.mainText.contains("Nothing waits for review."))
                #expect(after.mainText.contains("Listed; ID matches."))
                #expect(!after.html.contains("value=\"verified\""), "a decided case offers no decision")
            }
        }

        @Test("a reviewer of one project works through that project's queue, and sees no other project's cases")
        func scopedReview() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                // given two people needing review, one in each of two projects
                let admin = try await client.login()
                _ = try await client.send(
                    .put, "/v1/verification/watch-list?fileName=list.csv",
                    raw: "nationalId,reason\n55-1234-5678,court order\n66-1234-5678,court order\n",
                    bearer: admin.access, headers: [.contentType: "text/csv"])
                let mine = try await client.createProject("Terai", bearer: admin.access)
                let other = try await client.createProject("Karnali", bearer: admin.access)
                for (name, nationalID, project) in [
                    ("Pemba Sherpa", "5512345678", mine), ("Dawa Lama", "6612345678", other),
                ] {
                    let id = try await client.createBeneficiary(
                        ["name": name, "nationalId": nationalID, "birthDate": "1990-05-01"], bearer: admin.access)
                    try await client.enrol([id], in: project, bearer: admin.access)
                }
                for _ in 0..<300 {
                    let waiting = try await client.send(
                        .get, "/v1/verifications?status=needs_review", bearer: admin.access)
                    if (try waiting.json["items"] as? [Any])?.count == 2 { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                _ = try await client.createUser(
                    "reviewer@example.org", role: "manager", projectID: mine, bearer: admin.access)
                let reviewer = Browser(client)
                try await reviewer.signIn("reviewer@example.org", type(of: client).scenarioPassword)
                let token = try await client.login("reviewer@example.org", type(of: client).scenarioPassword)
                // when
                let home = try await reviewer.get("/console")
                let queue = try await reviewer.get("/console/verifications")
                let others = try await client.send(
                    .get, "/v1/verifications?projectId=\(other)", bearer: token.access)
                let everyone = try await client.send(.get, "/v1/verifications", bearer: token.access)
                // then
                #expect(home.mainText.contains("1 verification cases wait for a decision."), "\(home.mainText)")
                #expect(queue.status == .ok, "\(queue)")
                #expect(queue.mainText.contains("Pemba Sherpa"), "\(queue.mainText)")
                #expect(!queue.mainText.contains("Dawa Lama"))
                #expect(others.status == .forbidden, "\(others)")
                #expect(everyone.status == .forbidden, "the whole queue stays the registry's: \(everyone)")
            }
        }
    }
}
