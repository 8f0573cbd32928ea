import Foundation
import Gateway
import Hummingbird
import SharedModels

/// The review queue: KYC check runs that need a person, oldest first, each decided with a note.
struct VerificationPages: Sendable {
    let core: ConsoleCore

    func register(on console: RouterGroup<GatewayRequestContext>) {
        console.get("verifications") { request, _ in try await queue(request) }
        console.get("verifications/:id") { _, context in
            try await run(id: context.parameters.require("id"), note: nil, problem: nil)
        }
        console.post("verifications/:id/decision") { _, context in
            try await decide(id: context.parameters.require("id"))
        }
    }

    struct QueuePage: Sendable {
        var rows: [Row]
        var hasRows: Bool
        var project: Field
        var status: Field
        var next: String?
    }

    struct Row: Sendable {
        var href: String
        var person: String
        var status: String
        var requested: String
        var reasons: String
    }

    private func queue(_ request: Request) async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let query = request.uri.queryParameters
        // The queue is what needs review unless another status is asked for.
        let asked = query["status"].map(String.init)
        let status: Components.Schemas.VerificationRunStatus? =
            asked == nil ? .needsReview : asked.flatMap(Components.Schemas.VerificationRunStatus.init(rawValue:))
        // A reviewer of some projects reads one project's queue at a time.
        let filter = try await core.projectFilter(.beneficiary, asked: query["projectId"].map(String.init))
        var page = Components.Schemas.VerificationPage(items: [])
        if filter.canList {
            page = try await core.api.listVerifications(
                query: .init(
                    status: status, projectId: filter.chosen?.id, limit: 50, cursor: query["cursor"].map(String.init))
            ).ok.body.json
        }
        let names = await names(of: Set(page.items.map(\.beneficiaryId)))
        let view = QueuePage(
            rows: page.items.map { run in
                Row(
                    href: "/console/verifications/\(run.id)",
                    person: names[run.beneficiaryId] ?? text.text("hidden_personal_data"),
                    status: core.label(run.status, prefix: "verification_status"),
                    requested: core.dateTime(run.requestedAt),
                    reasons: run.reasons.joined(separator: "; "))
            },
            hasRows: !page.items.isEmpty,
            project: filter.field(text),
            status: .select(
                "status", label: text.text("field_status"),
                choices: core.choices(
                    Components.Schemas.VerificationRunStatus.self, prefix: "verification_status", any: true),
                value: status?.rawValue ?? ""),
            next: page.nextCursor.map {
                Pager.link(
                    "/console/verifications",
                    ["status": status?.rawValue ?? "", "projectId": filter.chosen?.id, "cursor": $0])
            })
        return core.renderer.page("verifications", title: text.text("nav_verification"), view)
    }

    /// The names the caller may read, by beneficiary id; a person beyond reach is left out.
    private func names(of ids: Set<String>) async -> [String: String] {
        await withTaskGroup(of: (String, String?).self) { group in
            for id in ids {
                group.addTask { (id, try? await core.api.getBeneficiary(path: .init(id: id)).ok.body.json.name) }
            }
            var names: [String: String] = [:]
            for await (id, name) in group { if let name { names[id] = name } }
            return names
        }
    }

    struct RunPage: Sendable {
        var id: String
        var person: String
        var personHref: String
        var status: String
        var requested: String
        var checked: String?
        var checks: [CheckRow]
        var reasons: [String]
        var hasReasons: Bool
        var decided: String?
        var decision: String?
        var note: String?
        var canDecide: Bool
        var noteField: Field
        var problem: ProblemView?
    }

    struct CheckRow: Sendable {
        var rule: String
        var result: String
        var detail: String
    }

    private func run(id: String, note: Field?, problem: ProblemView?) async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let run = try await core.api.getVerification(path: .init(id: id)).ok.body.json
        let person = try? await core.api.getBeneficiary(path: .init(id: run.beneficiaryId)).ok.body.json
        let page = RunPage(
            id: run.id,
            person: person?.name ?? text.text("hidden_personal_data"),
            personHref: "/console/beneficiaries/\(run.beneficiaryId)",
            status: core.label(run.status, prefix: "verification_status"),
            requested: core.dateTime(run.requestedAt),
            checked: run.checkedAt.map { core.dateTime($0) },
            checks: run.checks.map { check in
                CheckRow(
                    rule: check.rule, result: text.text("check_result_\(check.result.rawValue)"),
                    detail: check.detail ?? "")
            },
            reasons: run.reasons, hasReasons: !run.reasons.isEmpty,
            decided: run.decidedAt.map { core.dateTime($0) },
            decision: run.decision.map { text.text("verification_status_\($0.rawValue)") },
            note: run.note,
            canDecide: run.status == .needsReview && core.permissions.allowsAnywhere(.beneficiary, .approve),
            noteField: note
                ?? Field("note", label: text.text("field_note"), required: true, hint: text.text("decision_note_hint"))
                .multilined(),
            problem: problem)
        return core.renderer.page(
            "verification", title: text.text("verification_title"), page, status: problem == nil ? .ok : .badRequest)
    }

    private func decide(id: String) async throws -> Response {
        _ = try core.requireSession()
        guard let form = Visit.current?.form else { throw SignInRequired() }
        let text = core.language
        var note = Field(
            "note", label: text.text("field_note"), value: form["note"] ?? "", required: true,
            hint: text.text("decision_note_hint")
        ).multilined()
        let decision = form["decision"].flatMap(Components.Schemas.VerificationDecision.DecisionPayload.init(rawValue:))
        guard let decision, let noteText = form["note"] else {
            note.fail(text.text("decision_note_required"))
            return try await run(
                id: id, note: note, problem: ProblemView(detail: text.text("error_check_fields"), fields: [note]))
        }
        let run = try await core.api.getVerification(path: .init(id: id)).ok.body.json
        do {
            _ = try await core.api.decideVerification(
                path: .init(id: run.beneficiaryId), body: .json(.init(decision: decision, note: noteText))
            ).ok
            Visit.current?.flash(.success, text.text("decision_recorded_\(decision.rawValue)"))
            return ConsoleCore.redirect(to: "/console/verifications")
        } catch let error where [400, 409].contains(APIProblem.of(error)?.status) {
            guard let problem = APIProblem.of(error) else { throw error }
            var fields = [note]
            let view = ProblemView(problem, fields: &fields)
            return try await self.run(id: id, note: fields[0], problem: view)
        }
    }
}

extension Field {
    /// The same field as a text area.
    func multilined() -> Field {
        var field = self
        field.multiline = true
        return field
    }
}
