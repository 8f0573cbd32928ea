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
        var inProgress: [DisbursementRow]
        var hasInProgress: Bool
    }

    struct ProjectCard: Sendable {
        var href: String
        var name: String
        var status: String
        var type: String
        var asset: String
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
        let projects = try await core.api.listProjects(query: .init(limit: 12)).ok.body.json
        let byID = Dictionary(projects.items.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var approvals: [DisbursementRow] = []
        var inProgress: [DisbursementRow] = []
        if permissions.allowsAnywhere(.disbursement, .read) {
            // Everywhere at once, or project by project for a caller whose grants name projects.
            let scopes: [String?] = core.projectScope(.disbursement).map { $0.prefix(10).map { $0 } } ?? [nil]
            for projectID in scopes {
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
            projects: projects.items.map { project in
                ProjectCard(
                    href: "/console/projects/\(project.id)", name: project.name,
                    status: text.text("project_status_\(project.status.rawValue)"),
                    type: text.text("project_type_\(project._type.rawValue)"), asset: project.asset)
            },
            hasProjects: !projects.items.isEmpty,
            moreProjects: projects.nextCursor != nil,
            approvals: approvals, hasApprovals: !approvals.isEmpty,
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
