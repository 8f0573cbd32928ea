import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import NIOCore
import OpenAPIRuntime
import SharedModels

/// Settlements with vendors: a project's list, running one, a settlement's page with its payout
/// file for the bank (CSV or ISO 20022 pain.001, streamed from the API), and the bank's answer.
struct SettlementPages: Sendable {
    let core: ConsoleCore

    func register(on console: RouterGroup<GatewayRequestContext>) {
        console.get("settlements") { request, _ in try await list(request) }
        console.post("settlements") { _, _ in try await run() }
        console.get("settlements/:id") { _, context in try await detail(id: context.parameters.require("id")) }
        console.get("settlements/:id/payout-file") { request, context in
            try await payoutFile(id: context.parameters.require("id"), request: request)
        }
        console.post("settlements/:id/answer") { _, context in try await answer(id: context.parameters.require("id")) }
    }

    struct ListPage: Sendable {
        var project: Field
        var projectID: String
        var rows: [Row]
        var hasRows: Bool
        var canRun: Bool
        var runQuestion: String
        var next: String?
    }

    struct Row: Sendable {
        var href: String
        var vendor: String
        var amount: String
        var redemptions: String
        var status: String
        var created: String
    }

    private func list(_ request: Request) async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let query = request.uri.queryParameters
        // Settlements are listed a project at a time; a shop's login sees those it serves.
        let filter = try await core.projectFilter(.settlement, asked: query["projectId"].map(String.init))
        let projects = filter.projects
        let project = filter.chosen ?? projects.first
        var rows: [Row] = []
        var next: String?
        if let project {
            let page = try await core.api.listSettlements(
                query: .init(projectId: project.id, limit: 50, cursor: query["cursor"].map(String.init))
            ).ok.body.json
            rows = page.items.map { settlement in
                Row(
                    href: "/console/settlements/\(settlement.id)", vendor: settlement.vendorName,
                    amount: text.money(settlement.amount, scale: project.assetScale, asset: settlement.asset),
                    redemptions: text.number(settlement.redemptionCount),
                    status: core.label(settlement.status, prefix: "settlement_status"),
                    created: core.dateTime(settlement.createdAt))
            }
            next = page.nextCursor.map { Pager.link("/console/settlements", ["projectId": project.id, "cursor": $0]) }
        }
        let view = ListPage(
            project: .select(
                "projectId", label: text.text("field_project"), choices: projects.map { ($0.id, $0.name) },
                value: project?.id ?? ""),
            projectID: project?.id ?? "", rows: rows, hasRows: !rows.isEmpty,
            canRun: project.map { core.permissions.allows(Permission(.settlement, .create, projectID: $0.id)) }
                ?? false,
            runQuestion: text.text("settlement_run_confirm", project?.name ?? ""), next: next)
        return core.renderer.page("settlements", title: text.text("nav_settlements"), view)
    }

    private func run() async throws -> Response {
        _ = try core.requireSession()
        let form = Visit.current?.form ?? FormData()
        let text = core.language
        guard let projectID = form["projectId"] else { return ConsoleCore.redirect(to: "/console/settlements") }
        do {
            let run = try await core.api.createSettlements(body: .json(.init(projectId: projectID))).accepted.body.json
            Visit.current?.flash(
                .success, text.text("settlement_run_started", text.number(Int64(run.settlements.count))))
        } catch let error where [400, 403, 409].contains(APIProblem.of(error)?.status) {
            Visit.current?.flash(.error, APIProblem.of(error)?.detail ?? "")
        }
        return ConsoleCore.redirect(to: Pager.link("/console/settlements", ["projectId": projectID]))
    }

    struct DetailPage: Sendable {
        var id: String
        var vendor: String
        var facts: [Fact]
        var status: String
        var hasFile: Bool
        var canAnswer: Bool
        var reference: Field
        var reason: Field
    }

    private func detail(id: String) async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let settlement = try await core.api.getSettlement(path: .init(id: id)).ok.body.json
        let project = try? await core.api.getProject(path: .init(id: settlement.projectId)).ok.body.json
        let scale = project?.assetScale ?? 2
        var facts = [
            Fact(label: text.text("field_project"), value: project?.name ?? settlement.projectId),
            Fact(
                label: text.text("amount"), value: text.money(settlement.amount, scale: scale, asset: settlement.asset)),
            Fact(label: text.text("redemptions"), value: text.number(settlement.redemptionCount)),
            Fact(
                label: text.text("period"),
                value: "\(core.dateTime(settlement.periodStart)) – \(core.dateTime(settlement.periodEnd))"),
            Fact(label: text.text("end_to_end_id"), value: settlement.endToEndId),
            Fact(label: text.text("created"), value: core.dateTime(settlement.createdAt)),
        ]
        if let reference = settlement.payoutReference {
            facts.append(Fact(label: text.text("payout_reference"), value: reference))
        }
        if let reason = settlement.failureReason { facts.append(Fact(label: text.text("reasons"), value: reason)) }
        let page = DetailPage(
            id: settlement.id, vendor: settlement.vendorName, facts: facts,
            status: core.label(settlement.status, prefix: "settlement_status"),
            hasFile: settlement.status != .pending,
            canAnswer: settlement.status == .processing
                && core.permissions.allows(Permission(.settlement, .update, projectID: settlement.projectId)),
            reference: Field(
                "payoutReference", label: text.text("payout_reference"), hint: text.text("payout_reference_hint")),
            reason: Field("reason", label: text.text("failure_reason")))
        return core.renderer.page("settlement", title: text.text("settlement_title"), page)
    }

    /// The payout file as the API writes it, passed on as it streams, to be saved.
    private func payoutFile(id: String, request: Request) async throws -> Response {
        _ = try core.requireSession()
        let pain = request.uri.queryParameters["format"] == "pain.001"
        let answer = try await core.api.getPayoutFile(
            path: .init(id: id), query: .init(format: pain ? .pain_001 : .csv)
        ).ok
        let body = pain ? try answer.body.xml : try answer.body.csv
        let authorization = ConsoleCall.authorization
        return Response(
            status: .ok,
            headers: [
                .contentType: pain ? "application/xml; charset=utf-8" : "text/csv; charset=utf-8",
                .contentDisposition:
                    "attachment; filename=\"settlement-\(id)\(pain ? ".pain.001.xml" : ".csv")\"",
                .cacheControl: "no-store",
            ],
            body: ResponseBody { writer in
                try await ConsoleCall.$authorization.withValue(authorization) {
                    for try await chunk in body { try await writer.write(ByteBuffer(bytes: chunk)) }
                    try await writer.finish(nil)
                }
            })
    }

    private func answer(id: String) async throws -> Response {
        _ = try core.requireSession()
        let form = Visit.current?.form ?? FormData()
        let text = core.language
        let paid = form["status"] == "paid"
        guard paid ? form["payoutReference"] != nil : form["reason"] != nil else {
            Visit.current?.flash(.error, text.text(paid ? "payout_reference_required" : "failure_reason_required"))
            return ConsoleCore.redirect(to: "/console/settlements/\(id)")
        }
        do {
            _ = try await core.api.confirmSettlement(
                path: .init(id: id),
                body: .json(
                    .init(
                        status: paid ? .paid : .failed, payoutReference: paid ? form["payoutReference"] : nil,
                        reason: paid ? nil : form["reason"]))
            ).ok
            Visit.current?.flash(.success, text.text(paid ? "settlement_paid" : "settlement_failed"))
        } catch let error where [400, 403, 409].contains(APIProblem.of(error)?.status) {
            Visit.current?.flash(.error, APIProblem.of(error)?.detail ?? "")
        }
        return ConsoleCore.redirect(to: "/console/settlements/\(id)")
    }
}
