import Foundation
import Gateway
import Hummingbird
import SharedModels

/// The first page after signing in: the caller's projects, the disbursements waiting for their
/// approval and those being paid.
struct HomePage: Sendable {
    let core: ConsoleCore

    func register(on console: RouterGroup<GatewayRequestContext>) {
        console.get { _, _ in try await home() }
    }

    struct Page: Sendable {
        var greeting: String
        var projects: [ProjectCard]
        var hasProjects: Bool
        var moreProjects: Bool
        var approvals: [DisbursementRow]
        var hasApprovals: Bool
        /// How many verification runs wait for a person's decision, for those who decide them.
        var reviews: String?
        var hasWaiting: Bool
        var inProgress: [DisbursementRow]
        var hasInProgress: Bool
    }

    struct ProjectCard: Sendable {
        var href: String?
        var name: String
        var status: String
        var type: String
        var asset: String
        /// What the project's fund holds, for those who may read its books.
        var fund: String?
    }

    struct DisbursementRow: Sendable {
        var href: String
        var name: String
        var total: String
        var lines: String
        var approvals: String
    }

    private func home() async throws -> Response {
        let session = try core.requireSession()
        let text = core.language
        let permissions = PermissionSet(parsing: session.permissions)
        // A shop's login reads the projects it serves, not the project list.
        let readable = try await core.readableProjects()
        let shown = Array(readable.prefix(12))
        let byID = Dictionary(readable.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let funds = await withTaskGroup(of: (String, String?).self) { group in
            for project in shown where permissions.allows(Permission(.ledger, .read, projectID: project.id)) {
                group.addTask {
                    // The fund account's balance, one lookup: not the reconciliation, which adds up
                    // every flow of the project.
                    let fund = try? await core.api.findLedgerAccount(
                        query: .init(projectId: project.id, kind: .projectFund)
                    ).ok.body.json
                    return (
                        project.id, fund.map { text.money($0.balance, scale: project.assetScale, asset: project.asset) }
                    )
                }
            }
            var funds: [String: String] = [:]
            for await (id, fund) in group { funds[id] = fund }
            return funds
        }
        var reviews: String?
        if permissions.allowsAnywhere(.beneficiary, .approve) {
            // Everywhere at once, or project by project for a reviewer whose grants name projects.
            var count = 0
            var more = false
            for projectID in core.listScopes(.beneficiary) {
                let waiting = try await core.api.listVerifications(
                    query: .init(status: .needsReview, projectId: projectID, limit: 100)
                ).ok.body.json
                count += waiting.items.count
                more = more || waiting.nextCursor != nil
            }
            if count > 0 {
                reviews = text.text(more ? "home_reviews_more" : "home_reviews", text.number(Int64(count)))
            }
        }
        var approvals: [DisbursementRow] = []
        var inProgress: [DisbursementRow] = []
        if permissions.allowsAnywhere(.disbursement, .read) {
            // Everywhere at once, or project by project for a caller whose grants name projects.
            for projectID in core.listScopes(.disbursement) {
                let pending = try await core.api.listDisbursements(
                    query: .init(projectId: projectID, status: .pendingApproval, limit: 50)
                ).ok.body.json.items
                approvals += pending.filter { disbursement in
                    disbursement.approverIds.contains(session.userID)
                        && !disbursement.approvals.contains { $0.userId == session.userID }
                }.map { row($0, projects: byID) }
                inProgress += try await core.api.listDisbursements(
                    query: .init(projectId: projectID, status: .processing, limit: 20)
                ).ok.body.json.items.map { row($0, projects: byID) }
            }
        }
        let page = Page(
            greeting: text.text("home_greeting", session.userName),
            projects: shown.map { project in
                ProjectCard(
                    href: permissions.allowsAnywhere(.project, .read) ? "/console/projects/\(project.id)" : nil,
                    name: project.name, status: text.text("project_status_\(project.status.rawValue)"),
                    type: text.text("project_type_\(project._type.rawValue)"), asset: project.asset,
                    fund: funds[project.id].map { text.text("home_fund", $0) })
            },
            hasProjects: !shown.isEmpty,
            moreProjects: readable.count > shown.count,
            approvals: approvals, hasApprovals: !approvals.isEmpty, reviews: reviews,
            hasWaiting: !approvals.isEmpty || reviews != nil,
            inProgress: inProgress, hasInProgress: !inProgress.isEmpty)
        return core.renderer.page("home", title: text.text("nav_home"), page)
    }

    private func row(
        _ disbursement: Components.Schemas.Disbursement, projects: [String: Components.Schemas.Project]
    ) -> DisbursementRow {
        let text = core.language
        let scale = projects[disbursement.projectId]?.assetScale ?? 2
        let approved = disbursement.approvals.filter(\.approved).count
        return DisbursementRow(
            href: "/console/disbursements/\(disbursement.id)",
            name: disbursement.name,
            total: text.money(disbursement.total, scale: scale, asset: disbursement.asset),
            lines: text.number(disbursement.lineCount),
            approvals: text.text(
                "approvals_count", text.number(Int64(approved)), text.number(Int64(disbursement.requiredApprovals))))
    }
}
