import Foundation
import HTTPTypes
import HummingbirdTesting
import TestInfrastructure
import TestSupport
import Testing

extension ConsoleTests {
    /// A project's sections beyond its statistics: funding, approvers, the settlement schedule.
    @Suite("Project funds")
    struct ProjectFunds {
        @Test(
            "an admin records funding once per reference, sets approvers and a schedule; a manager only reads them",
            arguments: DatabaseEngine.available)
        func fundsAndSettings(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                // given
                let admin = try await client.login()
                let projectID = try await client.createProject("Flood relief", bearer: admin.access)
                var approvers: [String] = []
                for index in 1...2 {
                    approvers.append(
                        try await client.createUser(
                            "approver\(index)@example.org", role: "manager", projectID: projectID, bearer: admin.access
                        ).id)
                }
                let browser = Browser(client)
                try await browser.signIn()
                let base = "/console/projects/\(projectID)"
                // when funding is recorded, wrongly, then twice under one reference
                let overview = try await browser.get(base)
                _ = try await browser.get(base + "/funding")
                let tooPrecise = try await browser.post(
                    base + "/funding", [("amount", "10.005"), ("reference", "GRANT-1")])
                let recorded = try await browser.follow(
                    try await browser.post(base + "/funding", [("amount", "2,500.50"), ("reference", "GRANT-1")]))
                let again = try await browser.follow(
                    try await browser.post(base + "/funding", [("amount", "2500.50"), ("reference", "GRANT-1")]))
                let otherAmount = try await browser.post(
                    base + "/funding", [("amount", "99"), ("reference", "GRANT-1")])
                // and approvers are chosen, wrongly then rightly
                _ = try await browser.get(base + "/approvers")
                let noneChosen = try await browser.post(base + "/approvers", [("required", "1")])
                let tooMany = try await browser.post(
                    base + "/approvers", approvers.map { ("userIds", $0) } + [("required", "3")])
                let approversSaved = try await browser.follow(
                    try await browser.post(base + "/approvers", approvers.map { ("userIds", $0) } + [("required", "2")])
                )
                // and vendors are settled every Friday evening in Kathmandu, then not
                _ = try await browser.get(base + "/settlement-schedule")
                let badTime = try await browser.post(
                    base + "/settlement-schedule", [("cadence", "weekly"), ("at", "25:00"), ("weekday", "friday")])
                let scheduled = try await browser.follow(
                    try await browser.post(
                        base + "/settlement-schedule",
                        [
                            ("cadence", "weekly"), ("at", "18:00"), ("weekday", "friday"), ("dayOfMonth", "3"),
                            ("timeZone", "Asia/Kathmandu"),
                        ]))
                let manager = Browser(client)
                try await manager.signIn("approver1@example.org", type(of: client).scenarioPassword)
                let managerFunding = try await manager.get(base + "/funding")
                let managerApprovers = try await manager.get(base + "/approvers")
                let managerHome = try await manager.get("/console")
                let stopped = try await browser.follow(try await browser.post(base + "/settlement-schedule/delete"))
                let fund = try await client.send(.get, "/v1/projects/\(projectID)/reconciliation", bearer: admin.access)
                let home = try await browser.get("/console")
                // then
                #expect(overview.html.contains(#"href="\#(base)/funding""#), "the overview links its sections")
                #expect(overview.html.contains(#"href="/console/vendors?projectId=\#(projectID)""#))
                #expect(tooPrecise.status == .badRequest)
                #expect(tooPrecise.html.contains(#"id="field-amount-error""#), "\(tooPrecise)")
                #expect(recorded.mainText.contains("2,500.50 NPR recorded under GRANT-1."), "\(recorded.mainText)")
                #expect(recorded.mainText.contains("GRANT-1 2,500.50 NPR"), "\(recorded.mainText)")
                #expect(again.mainText.contains("GRANT-1 was already recorded"), "\(again.mainText)")
                #expect(otherAmount.status == .badRequest, "another amount under a recorded reference: \(otherAmount)")
                #expect(noneChosen.status == .badRequest)
                #expect(noneChosen.mainText.contains("Choose at least one approver."))
                #expect(tooMany.status == .badRequest, "\(tooMany)")
                #expect(tooMany.html.contains(#"id="field-required-error""#), "\(tooMany)")
                #expect(approversSaved.mainText.contains("2 of these 2 must approve"), "\(approversSaved.mainText)")
                #expect(approversSaved.mainText.contains("Approver 1") || approversSaved.mainText.contains("approver1"))
                #expect(badTime.status == .badRequest, "\(badTime)")
                #expect(badTime.html.contains(#"id="field-at-error""#), "\(badTime)")
                #expect(
                    scheduled.mainText.contains("Every Friday at 18:00 (Asia/Kathmandu)"), "\(scheduled.mainText)")
                #expect(scheduled.mainText.contains("Next run"))
                #expect(managerFunding.status == .ok, "\(managerFunding)")
                #expect(managerFunding.mainText.contains("GRANT-1"))
                #expect(!managerFunding.html.contains(#"action="\#(base)/funding""#), "a manager does not fund")
                #expect(managerApprovers.status == .ok)
                #expect(
                    managerHome.status == .ok, "a manager of one project lands on a working home page: \(managerHome)")
                #expect(managerHome.mainText.contains("Fund: 2,500.50 NPR"), "\(managerHome.mainText)")
                #expect(!managerHome.html.contains(#"href="/console/users""#), "no list it would be refused")
                #expect(!managerApprovers.html.contains(#"name="userIds""#), "a manager does not choose approvers")
                #expect(stopped.mainText.contains("Vendors are now settled on demand only."), "\(stopped.mainText)")
                #expect(stopped.mainText.contains("No schedule"))
                #expect(try fund.json["funded"] as? Int == 250_050, "funded once: \(fund)")
                #expect(home.mainText.contains("Flood relief"), "\(home.mainText)")
                #expect(home.mainText.contains("Fund: 2,500.50 NPR"), "the home page shows the fund: \(home.mainText)")
            }
        }
    }
}
