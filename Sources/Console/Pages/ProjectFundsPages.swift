import Foundation
import Gateway
import Hummingbird
import SharedModels

/// A project's money beyond its disbursements: the donor fundings recorded into its fund, who
/// approves its disbursements (M of N), and when its vendors are settled without anyone asking.
struct ProjectFundsPages: Sendable {
    let core: ConsoleCore

    func register(on console: RouterGroup<GatewayRequestContext>) {
        console.get("projects/:id/funding") { request, context in
            try await funding(id: context.parameters.require("id"), cursor: request.uri.queryParameters["cursor"])
        }
        console.post("projects/:id/funding") { _, context in
            try await recordFunding(id: context.parameters.require("id"))
        }
        console.get("projects/:id/approvers") { _, context in
            try await approvers(id: context.parameters.require("id"), problem: nil)
        }
        console.post("projects/:id/approvers") { _, context in
            try await setApprovers(id: context.parameters.require("id"))
        }
        console.get("projects/:id/settlement-schedule") { _, context in
            try await schedule(id: context.parameters.require("id"), fields: nil, problem: nil)
        }
        console.post("projects/:id/settlement-schedule") { _, context in
            try await setSchedule(id: context.parameters.require("id"))
        }
        console.post("projects/:id/settlement-schedule/delete") { _, context in
            try await deleteSchedule(id: context.parameters.require("id"))
        }
    }

    // MARK: Funding

    struct FundingPage: Sendable {
        var project: ProjectPages.Heading
        var rows: [FundingRow]
        var hasRows: Bool
        var next: String?
        var canRecord: Bool
        var fields: [Field]
        var problem: ProblemView?
    }

    struct FundingRow: Sendable {
        var when: String
        var reference: String
        var amount: String
        var note: String
        var by: String
    }

    private func fundingFields(_ form: FormData) -> [Field] {
        let text = core.language
        return [
            Field(
                "amount", label: text.text("field_amount"), value: form["amount"] ?? "", required: true,
                autocomplete: "off", inputmode: "decimal"),
            Field(
                "reference", label: text.text("field_funding_reference"), value: form["reference"] ?? "",
                required: true, autocomplete: "off", hint: text.text("funding_reference_hint")),
            Field("note", label: text.text("field_note_optional"), value: form["note"] ?? ""),
        ]
    }

    private func funding(
        id: String, cursor: Substring?, fields: [Field]? = nil, problem: ProblemView? = nil
    ) async throws -> Response {
        let session = try core.requireSession()
        let text = core.language
        let project = try await core.api.getProject(path: .init(id: id)).ok.body.json
        let page = try await core.api.listProjectFundings(
            path: .init(id: id), query: .init(limit: 50, cursor: cursor.map(String.init))
        ).ok.body.json
        let names = await core.userNames(Set(page.items.map(\.createdBy)), me: session)
        let view = FundingPage(
            project: ProjectPages.heading(project, current: "funding", core: core),
            rows: page.items.map { funding in
                FundingRow(
                    when: core.dateTime(funding.createdAt), reference: funding.reference,
                    amount: text.money(funding.amount, scale: project.assetScale, asset: funding.asset),
                    note: funding.note ?? "", by: names[funding.createdBy] ?? funding.createdBy)
            },
            hasRows: !page.items.isEmpty,
            next: page.nextCursor.map { Pager.link("/console/projects/\(id)/funding", ["cursor": $0]) },
            canRecord: project.status != .closed
                && core.permissions.allows(Permission(.project, .manage, projectID: project.id)),
            fields: fields ?? fundingFields(FormData()), problem: problem)
        return core.renderer.page(
            "project-funding", title: text.text("funding_title", project.name), view,
            status: problem == nil ? .ok : .badRequest)
    }

    private func recordFunding(id: String) async throws -> Response {
        _ = try core.requireSession()
        let form = Visit.current?.form ?? FormData()
        let text = core.language
        let project = try await core.api.getProject(path: .init(id: id)).ok.body.json
        var fields = fundingFields(form)
        let amount = form["amount"].flatMap { text.parseAmount($0, scale: project.assetScale) }
        if amount == nil || amount == 0 {
            fields[0].fail(text.text("error_amount", text.number(Int64(project.assetScale))))
        }
        if form["reference"] == nil { fields[1].fail(text.text("error_required")) }
        guard let amount, let reference = form["reference"], fields.allSatisfy({ $0.error == nil }) else {
            return try await funding(
                id: id, cursor: nil, fields: fields,
                problem: ProblemView(detail: text.text("error_check_fields"), fields: fields))
        }
        do {
            // A grant's reference is recorded once: sent again (a double click, a resend), the API
            // answers the first recording and nothing moves.
            let answer = try await core.api.recordProjectFunding(
                path: .init(id: id), body: .json(.init(amount: amount, reference: reference, note: form["note"])))
            let recorded =
                if case .created(let created) = answer { try created.body.json } else { try answer.ok.body.json }
            let money = text.money(recorded.amount, scale: project.assetScale, asset: recorded.asset)
            Visit.current?.flash(
                .success,
                text.text(recorded.replayed ? "funding_already_recorded" : "funding_recorded", money, reference))
        } catch let error where [400, 409].contains(APIProblem.of(error)?.status) {
            guard let problem = APIProblem.of(error) else { throw error }
            let view = ProblemView(problem, fields: &fields)
            return try await funding(id: id, cursor: nil, fields: fields, problem: view)
        }
        return ConsoleCore.redirect(to: "/console/projects/\(id)/funding")
    }

    // MARK: Approvers

    struct ApproversPage: Sendable {
        var project: ProjectPages.Heading
        var summary: String
        var names: [String]
        var hasNames: Bool
        var updated: String?
        var canSet: Bool
        var users: [Choice]
        var required: Field
        var problem: ProblemView?
    }

    struct Choice: Sendable {
        var id: String
        var value: String
        var label: String
        var checked: Bool
    }

    private func approvers(
        id: String, problem: ProblemView?, chosen: Set<String>? = nil, required: Field? = nil
    ) async throws -> Response {
        let session = try core.requireSession()
        let text = core.language
        let project = try await core.api.getProject(path: .init(id: id)).ok.body.json
        let current = try await core.api.getProjectApprovers(path: .init(id: id)).ok.body.json
        let names = await core.userNames(Set(current.userIds + (current.updatedBy.map { [$0] } ?? [])), me: session)
        let canSet = core.permissions.allows(Permission(.project, .manage, projectID: id))
        // The active users to choose from, and always the present approvers: a save sends the
        // whole set, so one missing from the list would be dropped without anyone choosing to.
        var choices: [(id: String, label: String)] = []
        if canSet {
            let users =
                (try? await core.api.listUsers(query: .init(limit: 200, status: .active)).ok.body.json.items) ?? []
            choices = users.map { ($0.id, "\($0.name) (\($0.email))") }
            for id in current.userIds where !users.contains(where: { $0.id == id }) {
                choices.append((id, names[id] ?? id))
            }
        }
        let selected = chosen ?? Set(current.userIds)
        let view = ApproversPage(
            project: ProjectPages.heading(project, current: "approvers", core: core),
            summary: current.userIds.isEmpty
                ? text.text("approvers_none")
                : text.text(
                    "approvers_summary", text.number(Int64(current.required)),
                    text.number(Int64(current.userIds.count))),
            names: current.userIds.map { names[$0] ?? $0 }, hasNames: !current.userIds.isEmpty,
            updated: current.updatedAt.map { date in
                text.text(
                    "approvers_updated", core.dateTime(date), current.updatedBy.flatMap { names[$0] } ?? "")
            },
            canSet: canSet,
            users: choices.enumerated().map { index, user in
                Choice(id: "approver-\(index)", value: user.id, label: user.label, checked: selected.contains(user.id))
            },
            required: required
                ?? Field(
                    "required", label: text.text("field_approvals_required"), type: "number",
                    value: current.required > 0 ? String(current.required) : "", required: true,
                    inputmode: "numeric", hint: text.text("approvals_required_hint")),
            problem: problem)
        return core.renderer.page(
            "project-approvers", title: text.text("approvers_title", project.name), view,
            status: problem == nil ? .ok : .badRequest)
    }

    private func setApprovers(id: String) async throws -> Response {
        _ = try core.requireSession()
        let form = Visit.current?.form ?? FormData()
        let text = core.language
        let chosen = form.all("userIds")
        var fields = [
            Field(
                "required", label: text.text("field_approvals_required"), type: "number", value: form["required"] ?? "",
                required: true, inputmode: "numeric", hint: text.text("approvals_required_hint")),
            Field("userIds", label: text.text("approvers")),
        ]
        let required = form["required"].flatMap { Int($0) }
        if required == nil { fields[0].fail(text.text("error_whole_number")) }
        if chosen.isEmpty { fields[1].fail(text.text("approvers_choose")) }
        guard let required, !chosen.isEmpty else {
            return try await approvers(
                id: id, problem: ProblemView(detail: text.text("error_check_fields"), fields: fields),
                chosen: Set(chosen), required: fields[0])
        }
        do {
            _ = try await core.api.setProjectApprovers(
                path: .init(id: id), body: .json(.init(userIds: chosen, required: required))
            ).ok
            Visit.current?.flash(.success, text.text("approvers_saved"))
        } catch let error where APIProblem.of(error)?.status == 400 {
            guard let problem = APIProblem.of(error) else { throw error }
            let view = ProblemView(problem, fields: &fields)
            return try await approvers(id: id, problem: view, chosen: Set(chosen), required: fields[0])
        }
        return ConsoleCore.redirect(to: "/console/projects/\(id)/approvers")
    }

    // MARK: Settlement schedule

    struct SchedulePage: Sendable {
        var project: ProjectPages.Heading
        var facts: [Fact]
        var hasSchedule: Bool
        var canSet: Bool
        var fields: [Field]
        var deleteQuestion: String
        var problem: ProblemView?
    }

    private func scheduleFields(_ form: FormData, _ current: Components.Schemas.SettlementSchedule?) -> [Field] {
        let text = core.language
        func value(_ name: String, _ stored: String?) -> String { form[name] ?? stored ?? "" }
        // The user's own zone by default; the API spells UTC only so.
        let zone = Visit.current.map { $0.timeZone.identifier == "GMT" ? "UTC" : $0.timeZone.identifier }
        return [
            .select(
                "cadence", label: text.text("field_cadence"),
                choices: core.choices(Components.Schemas.SettlementCadence.self, prefix: "cadence"),
                value: value("cadence", current?.cadence.rawValue ?? "weekly"), required: true),
            Field(
                "at", label: text.text("field_at"), type: "time", value: value("at", current?.at ?? "18:00"),
                required: true, hint: text.text("at_hint")),
            .select(
                "weekday", label: text.text("field_weekday"),
                choices: [("", text.text("none"))]
                    + core.choices(Components.Schemas.Weekday.self, prefix: "weekday"),
                value: value("weekday", current?.weekday?.rawValue), hint: text.text("weekday_hint")),
            Field(
                "dayOfMonth", label: text.text("field_day_of_month"), type: "number",
                value: value("dayOfMonth", current?.dayOfMonth.map(String.init)), inputmode: "numeric",
                hint: text.text("day_of_month_hint")),
            Field(
                "timeZone", label: text.text("field_time_zone"),
                value: value("timeZone", current?.timeZone ?? zone), required: true,
                autocomplete: "off", hint: text.text("schedule_time_zone_hint")),
        ]
    }

    private func schedule(id: String, fields: [Field]?, problem: ProblemView?) async throws -> Response {
        let session = try core.requireSession()
        let text = core.language
        let project = try await core.api.getProject(path: .init(id: id)).ok.body.json
        var current: Components.Schemas.SettlementSchedule?
        do {
            current = try await core.api.getSettlementSchedule(path: .init(id: id)).ok.body.json
        } catch let error where APIProblem.of(error)?.status == 404 {
            current = nil
        }
        var facts: [Fact] = []
        if let current {
            let names = await core.userNames([current.updatedBy], me: session)
            let when: String =
                switch current.cadence {
                case .daily: text.text("schedule_daily", current.at)
                case .weekly:
                    text.text(
                        "schedule_weekly", current.weekday.map { core.label($0, prefix: "weekday") } ?? "", current.at)
                case .monthly:
                    text.text("schedule_monthly", text.number(Int64(current.dayOfMonth ?? 1)), current.at)
                }
            facts = [
                Fact(label: text.text("schedule_when"), value: "\(when) (\(current.timeZone))"),
                Fact(label: text.text("schedule_next"), value: core.dateTime(current.nextRunAt)),
                Fact(label: text.text("schedule_last"), value: core.dateTime(current.lastRunAt)),
                Fact(label: text.text("schedule_runs_as"), value: names[current.updatedBy] ?? current.updatedBy),
            ].filter { !$0.value.isEmpty }
        }
        let view = SchedulePage(
            project: ProjectPages.heading(project, current: "settlement-schedule", core: core),
            facts: facts, hasSchedule: current != nil,
            canSet: project.status != .closed
                && core.permissions.allows(Permission(.settlement, .create, projectID: project.id)),
            fields: fields ?? scheduleFields(FormData(), current),
            deleteQuestion: text.text("schedule_delete_confirm", project.name), problem: problem)
        return core.renderer.page(
            "project-schedule", title: text.text("schedule_title", project.name), view,
            status: problem == nil ? .ok : .badRequest)
    }

    private func setSchedule(id: String) async throws -> Response {
        _ = try core.requireSession()
        let form = Visit.current?.form ?? FormData()
        let text = core.language
        var fields = scheduleFields(form, nil)
        let cadence = form["cadence"].flatMap(Components.Schemas.SettlementCadence.init(rawValue:))
        if cadence == nil { fields[0].fail(text.text("error_choose")) }
        if form["at"] == nil { fields[1].fail(text.text("error_required")) }
        let day = form["dayOfMonth"].map { Int($0) }
        if let day, day == nil { fields[3].fail(text.text("error_whole_number")) }
        guard let cadence, let at = form["at"], fields.allSatisfy({ $0.error == nil }) else {
            return try await schedule(
                id: id, fields: fields, problem: ProblemView(detail: text.text("error_check_fields"), fields: fields))
        }
        // Only what the cadence takes is sent: a weekday left chosen on a monthly schedule is not
        // the user's intent.
        let body = Components.Schemas.SetSettlementSchedule(
            cadence: cadence, at: at,
            weekday: cadence == .weekly ? form["weekday"].flatMap(Components.Schemas.Weekday.init(rawValue:)) : nil,
            dayOfMonth: cadence == .monthly ? day.flatMap { $0 } : nil, timeZone: form["timeZone"])
        do {
            _ = try await core.api.setSettlementSchedule(path: .init(id: id), body: .json(body)).ok
            Visit.current?.flash(.success, text.text("schedule_saved"))
        } catch let error where [400, 409].contains(APIProblem.of(error)?.status) {
            guard let problem = APIProblem.of(error) else { throw error }
            let view = ProblemView(problem, fields: &fields)
            return try await schedule(id: id, fields: fields, problem: view)
        }
        return ConsoleCore.redirect(to: "/console/projects/\(id)/settlement-schedule")
    }

    private func deleteSchedule(id: String) async throws -> Response {
        _ = try core.requireSession()
        do {
            _ = try await core.api.deleteSettlementSchedule(path: .init(id: id)).noContent
            Visit.current?.flash(.success, core.language.text("schedule_deleted"))
        } catch let error where APIProblem.of(error)?.status == 404 {
            Visit.current?.flash(.success, core.language.text("schedule_deleted"))
        }
        return ConsoleCore.redirect(to: "/console/projects/\(id)/settlement-schedule")
    }
}
