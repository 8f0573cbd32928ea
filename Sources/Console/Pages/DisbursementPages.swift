import Foundation
import Gateway
import Hummingbird
import OpenAPIRuntime
import SharedModels

/// Disbursements: the list; a draft planned by a dry run first (an amount for everyone enrolled,
/// or per-person amounts from a CSV); submitting, M-of-N approval with notes, cancelling; live
/// progress while it pays; failed lines and their retry.
struct DisbursementPages: Sendable {
    let core: ConsoleCore

    func register(on console: RouterGroup<GatewayRequestContext>) {
        console.get("disbursements") { request, _ in try await list(request) }
        console.get("disbursements/new") { request, _ in
            try await newForm(projectID: request.uri.queryParameters["projectId"].map(String.init))
        }
        console.post("disbursements/preview") { _, _ in try await preview() }
        console.post("disbursements") { _, _ in try await create() }
        console.get("disbursements/:id") { request, context in
            try await detail(id: context.parameters.require("id"), request: request)
        }
        console.get("disbursements/:id/progress") { _, context in
            try progress(id: context.parameters.require("id"))
        }
        for action in ["submit", "approve", "reject", "cancel", "retry"] {
            console.post("disbursements/:id/\(action)") { _, context in
                try await decide(id: context.parameters.require("id"), action: action)
            }
        }
    }

    // MARK: List

    struct ListPage: Sendable {
        var rows: [Row]
        var hasRows: Bool
        var canCreate: Bool
        var status: Field
        var project: Field
        var next: String?
    }

    struct Row: Sendable {
        var href: String
        var name: String
        var status: String
        var total: String
        var lines: String
        var created: String
    }

    private func list(_ request: Request) async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let query = request.uri.queryParameters
        let status = query["status"].flatMap { Components.Schemas.DisbursementStatus(rawValue: String($0)) }
        // A caller whose grants name projects lists one of them.
        let asked = query["projectId"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let projects = try await core.projectFilter(.disbursement, asked: asked)
        let projectID = projects.listed(asked: asked)
        let page =
            projects.canList(asked: asked)
            ? try await core.api.listDisbursements(
                query: .init(
                    projectId: projectID, status: status, limit: 50, cursor: query["cursor"].map(String.init))
            ).ok.body.json : .init(items: [])
        let scales = try await projectScales()
        let view = ListPage(
            rows: page.items.map { disbursement in
                Row(
                    href: "/console/disbursements/\(disbursement.id)", name: disbursement.name,
                    status: core.label(disbursement.status, prefix: "disbursement_status"),
                    total: text.money(
                        disbursement.total, scale: scales[disbursement.projectId] ?? 2, asset: disbursement.asset),
                    lines: text.number(disbursement.lineCount), created: core.dateTime(disbursement.createdAt))
            },
            hasRows: !page.items.isEmpty,
            canCreate: core.permissions.allowsAnywhere(.disbursement, .create),
            status: .select(
                "status", label: text.text("field_status"),
                choices: core.choices(
                    Components.Schemas.DisbursementStatus.self, prefix: "disbursement_status", any: true),
                value: status?.rawValue ?? ""),
            project: projects.field(text),
            next: page.nextCursor.map {
                Pager.link(
                    "/console/disbursements", ["status": status?.rawValue, "projectId": projectID, "cursor": $0])
            })
        return core.renderer.page("disbursements", title: text.text("nav_disbursements"), view)
    }

    /// Each visible project's asset scale, to write amounts with.
    private func projectScales() async throws -> [String: Int] {
        var scales: [String: Int] = [:]
        var cursor: String?
        repeat {
            let page = try await core.api.listProjects(query: .init(limit: 200, cursor: cursor)).ok.body.json
            for project in page.items { scales[project.id] = project.assetScale }
            cursor = page.nextCursor
        } while cursor != nil && scales.count < 2_000
        return scales
    }

    // MARK: Draft: the form, the dry run, the draft

    struct NewPage: Sendable {
        var fields: [Field]
        var reference: String
        var problem: ProblemView?
        var noProjects: Bool
    }

    private func activeProjects() async throws -> [Components.Schemas.Project] {
        try await core.api.listProjects(query: .init(limit: 200, status: .active)).ok.body.json.items
    }

    private func draftFields(
        projects: [Components.Schemas.Project], values: FormData, projectID: String? = nil
    ) -> [Field] {
        let text = core.language
        return [
            .select(
                "projectId", label: text.text("field_project"),
                choices: projects.map { ($0.id, "\($0.name) (\($0.asset))") },
                value: values["projectId"] ?? projectID ?? projects.first?.id ?? "", required: true),
            Field(
                "name", label: text.text("field_name"), value: values["name"] ?? "", required: true,
                hint: text.text("disbursement_name_hint")),
            Field(
                "amount", label: text.text("field_amount_each"), value: values["amount"] ?? "",
                inputmode: "decimal", hint: text.text("amount_each_hint")),
            Field("file", label: text.text("field_amounts_file"), type: "file", hint: text.text("amounts_file_hint")),
        ]
    }

    private func newForm(
        projectID: String?, form: FormData = FormData(), fields: [Field]? = nil, problem: ProblemView? = nil
    )
        async throws -> Response
    {
        _ = try core.requireSession()
        let projects = try await activeProjects()
        let page = NewPage(
            fields: fields ?? draftFields(projects: projects, values: form, projectID: projectID),
            reference: form["reference"] ?? "console-" + ConsoleSessions.randomToken().prefix(16),
            problem: problem, noProjects: projects.isEmpty)
        return core.renderer.page(
            "disbursement-new", title: core.language.text("disbursement_new_title"), page,
            status: problem == nil ? .ok : .badRequest)
    }

    struct PreviewPage: Sendable {
        var project: String
        var name: String
        var lines: String
        var total: String
        var balance: String
        var sufficient: Bool
        var excluded: [Count]
        var hasExcluded: Bool
        var hidden: [Hidden]
    }

    struct Count: Sendable {
        var label: String
        var value: String
    }

    /// What a draft is made of, read from the form (and its file).
    private struct Draft {
        var project: Components.Schemas.Project
        var name: String
        var reference: String
        var amount: Int64?
        var csv: [UInt8]?
    }

    /// Reads the form into a draft, or the fields with what is wrong.
    private func readDraft(
        _ form: FormData, projects: [Components.Schemas.Project]
    ) async throws -> Result<Draft, FieldErrors> {
        let text = core.language
        var fields = draftFields(projects: projects, values: form)
        let project = projects.first { $0.id == form["projectId"] }
        if project == nil { fields[0].fail(text.text("error_choose")) }
        if form["name"] == nil { fields[1].fail(text.text("error_required")) }
        var csv = Visit.current?.files["file"].flatMap { $0.bytes.isEmpty ? nil : $0.bytes }
        if csv == nil, let stashed = form["upload"] { csv = try await core.uploads.take(stashed, peek: true) }
        var amount: Int64?
        if let typed = form["amount"] {
            amount = project.flatMap { text.parseAmount(typed, scale: $0.assetScale) }
            if amount == nil || amount == 0 {
                fields[2].fail(text.text("error_amount", text.number(Int64(project?.assetScale ?? 2))))
            }
        }
        if (amount == nil) == (csv == nil), fields[2].error == nil {
            fields[2].fail(text.text("error_amount_or_file"))
        }
        guard let project, let name = form["name"], fields.allSatisfy({ $0.error == nil }) else {
            return .failure(FieldErrors(fields: fields))
        }
        return .success(
            Draft(
                project: project, name: name,
                reference: form["reference"] ?? "console-" + ConsoleSessions.randomToken().prefix(16),
                amount: csv == nil ? amount : nil, csv: csv))
    }

    private struct FieldErrors: Error {
        var fields: [Field]
    }

    private func send(_ draft: Draft, dryRun: Bool) async throws -> Operations.CreateDisbursement.Output {
        if let csv = draft.csv {
            return try await core.api.createDisbursement(
                query: .init(
                    dryRun: dryRun, projectId: draft.project.id, name: draft.name, reference: draft.reference),
                body: .csv(HTTPBody(csv)))
        }
        return try await core.api.createDisbursement(
            query: .init(dryRun: dryRun),
            body: .json(
                .init(
                    projectId: draft.project.id, name: draft.name, reference: draft.reference,
                    amountPerBeneficiary: draft.amount)))
    }

    /// Reads the posted draft and hands it to `body`; a form the console or the API finds wrong
    /// comes back with its errors, what was typed kept.
    private func withDraft(_ body: (Draft, FormData) async throws -> Response) async throws -> Response {
        _ = try core.requireSession()
        guard let form = Visit.current?.form else { throw SignInRequired() }
        let projects = try await activeProjects()
        switch try await readDraft(form, projects: projects) {
        case .failure(let errors):
            return try await newForm(
                projectID: nil, form: form, fields: errors.fields,
                problem: ProblemView(detail: core.language.text("error_check_fields"), fields: errors.fields))
        case .success(let draft):
            do {
                return try await body(draft, form)
            } catch let error where [400, 409].contains(APIProblem.of(error)?.status) {
                guard let problem = APIProblem.of(error) else { throw error }
                var fields = draftFields(projects: projects, values: form)
                let view = ProblemView(problem, fields: &fields)
                return try await newForm(projectID: nil, form: form, fields: fields, problem: view)
            }
        }
    }

    private func preview() async throws -> Response {
        try await withDraft { draft, _ in
            let text = core.language
            guard case .DisbursementPlan(let plan) = try await send(draft, dryRun: true).ok.body.json else {
                throw APIProblem(status: 500, code: "console.unexpected_answer", detail: "")
            }
            var hidden = [
                Hidden(name: "projectId", value: draft.project.id), Hidden(name: "name", value: draft.name),
                Hidden(name: "reference", value: draft.reference),
            ]
            if let csv = draft.csv {
                hidden.append(Hidden(name: "upload", value: try await core.uploads.stash(csv)))
            } else if let amount = draft.amount {
                hidden.append(
                    Hidden(
                        name: "amount",
                        value: text.money(amount, scale: draft.project.assetScale, asset: "")
                            .trimmingCharacters(in: .whitespaces)))
            }
            let scale = draft.project.assetScale
            let page = PreviewPage(
                project: draft.project.name, name: draft.name, lines: text.number(plan.lineCount),
                total: text.money(plan.total, scale: scale, asset: plan.asset),
                balance: text.money(plan.fundBalance, scale: scale, asset: plan.asset),
                sufficient: plan.fundSufficient,
                excluded: plan.excludedCounts.additionalProperties.sorted { $0.key < $1.key }.map {
                    Count(label: text.text("excluded_\($0.key)"), value: text.number($0.value))
                },
                hasExcluded: plan.excludedCounts.additionalProperties.values.contains { $0 > 0 },
                hidden: hidden)
            return core.renderer.page("disbursement-preview", title: text.text("disbursement_preview_title"), page)
        }
    }

    private func create() async throws -> Response {
        try await withDraft { draft, form in
            let disbursement: Components.Schemas.Disbursement
            switch try await send(draft, dryRun: false) {
            case .created(let created): disbursement = try created.body.json
            case .ok(let ok):
                // The same reference again (a second click): the draft it made the first time.
                guard case .Disbursement(let replayed) = try ok.body.json else {
                    throw APIProblem(status: 500, code: "console.unexpected_answer", detail: "")
                }
                disbursement = replayed
            default: throw APIProblem(status: 500, code: "console.unexpected_answer", detail: "")
            }
            if let upload = form["upload"] { _ = try await core.uploads.take(upload, peek: false) }
            Visit.current?.flash(.success, core.language.text("disbursement_drafted"))
            return ConsoleCore.redirect(to: "/console/disbursements/\(disbursement.id)")
        }
    }

    // MARK: A disbursement

    struct DetailPage: Sendable {
        var id: String
        var name: String
        var project: String
        var projectHref: String
        var status: String
        var total: String
        var lines: String
        var each: String?
        var created: String
        var submitted: String?
        var approvedAt: String?
        var completedAt: String?
        var approvalsLine: String
        var approvals: [Approval]
        var hasApprovals: Bool
        var approvers: String
        var progress: Progress
        var live: Bool
        var failedLines: [Line]
        var hasFailedLines: Bool
        var moreFailed: String?
        var canSubmit: Bool
        var canDecide: Bool
        var canCancel: Bool
        var canRetry: Bool
        var note: Field
        var rejectNote: Field
        var approveQuestion: String
        var rejectQuestion: String
        var cancelQuestion: String
        var retryQuestion: String
    }

    struct Approval: Sendable {
        var who: String
        var decision: String
        var note: String?
        var when: String
    }

    struct Line: Sendable {
        var number: String
        var beneficiaryHref: String
        var amount: String
        var attempts: String
        var error: String
    }

    /// What the progress bar and counts show; the live stream sends the same.
    struct Progress: Sendable, Encodable, Equatable {
        var status: String
        var completed: String
        var failed: String
        var total: String
        var paid: String
        var percent: Int
        var done: Bool
    }

    private func detail(id: String, request: Request) async throws -> Response {
        let session = try core.requireSession()
        let text = core.language
        let disbursement = try await core.api.getDisbursement(path: .init(id: id)).ok.body.json
        let project = try? await core.api.getProject(path: .init(id: disbursement.projectId)).ok.body.json
        let scale = project?.assetScale ?? 2
        let failed =
            disbursement.linesFailed > 0
            ? try await core.api.listDisbursementLines(
                path: .init(id: id),
                query: .init(
                    status: .failed, limit: 50, cursor: request.uri.queryParameters["failedCursor"].map(String.init))
            ).ok.body.json : nil
        let names = await core.userNames(Set(disbursement.approverIds + [disbursement.createdBy]), me: session)
        let approved = disbursement.approvals.filter(\.approved).count
        let permissions = core.permissions
        let mayUpdate = permissions.allows(Permission(.disbursement, .update, projectID: disbursement.projectId))
        let isApprover =
            disbursement.approverIds.contains(session.userID)
            && !disbursement.approvals.contains { $0.userId == session.userID }
        let page = DetailPage(
            id: disbursement.id, name: disbursement.name,
            project: project?.name ?? disbursement.projectId,
            projectHref: "/console/projects/\(disbursement.projectId)",
            status: core.label(disbursement.status, prefix: "disbursement_status"),
            total: text.money(disbursement.total, scale: scale, asset: disbursement.asset),
            lines: text.number(disbursement.lineCount),
            each: disbursement.amountPerBeneficiary.map { text.money($0, scale: scale, asset: disbursement.asset) },
            created: text.text(
                "created_by", core.dateTime(disbursement.createdAt),
                names[disbursement.createdBy] ?? disbursement.createdBy),
            submitted: disbursement.submittedAt.map { core.dateTime($0) },
            approvedAt: disbursement.approvedAt.map { core.dateTime($0) },
            completedAt: disbursement.completedAt.map { core.dateTime($0) },
            approvalsLine: text.text(
                "approvals_needed", text.number(Int64(approved)), text.number(Int64(disbursement.requiredApprovals)),
                text.number(Int64(max(0, disbursement.requiredApprovals - approved)))),
            approvals: disbursement.approvals.map { decision in
                Approval(
                    who: names[decision.userId] ?? decision.userId,
                    decision: text.text(decision.approved ? "approved" : "rejected"), note: decision.note,
                    when: core.dateTime(decision.decidedAt))
            },
            hasApprovals: !disbursement.approvals.isEmpty,
            approvers: disbursement.approverIds.map { names[$0] ?? $0 }.joined(separator: ", "),
            progress: Self.progress(
                disbursement, scale: scale, text: text,
                label: core.label(disbursement.status, prefix: "disbursement_status")),
            live: [.approved, .processing].contains(disbursement.status),
            failedLines: (failed?.items ?? []).map { line in
                Line(
                    number: text.number(line.lineNumber),
                    beneficiaryHref: "/console/beneficiaries/\(line.beneficiaryId)",
                    amount: text.money(line.amount, scale: scale, asset: disbursement.asset),
                    attempts: text.number(Int64(line.attempts)), error: line.lastError ?? "")
            },
            hasFailedLines: !(failed?.items.isEmpty ?? true),
            moreFailed: failed?.nextCursor.map { Pager.link("/console/disbursements/\(id)", ["failedCursor": $0]) },
            canSubmit: disbursement.status == .draft && mayUpdate,
            canDecide: disbursement.status == .pendingApproval && isApprover,
            canCancel: [.draft, .pendingApproval].contains(disbursement.status) && mayUpdate,
            canRetry: disbursement.status == .partiallyFailed && mayUpdate,
            note: Field("note", label: text.text("field_note_optional")).multilined(),
            rejectNote: Field("note", label: text.text("field_note"), required: true).multilined(),
            approveQuestion: text.text("disbursement_approve_confirm", disbursement.name),
            rejectQuestion: text.text("disbursement_reject_confirm", disbursement.name),
            cancelQuestion: text.text("disbursement_cancel_confirm", disbursement.name),
            retryQuestion: text.text("disbursement_retry_confirm", text.number(disbursement.linesFailed)))
        return core.renderer.page("disbursement", title: disbursement.name, page)
    }

    static func progress(
        _ disbursement: Components.Schemas.Disbursement, scale: Int, text: Language, label: String
    ) -> Progress {
        let settled = disbursement.linesCompleted + disbursement.linesFailed
        let percent = disbursement.lineCount == 0 ? 0 : Int(settled * 100 / disbursement.lineCount)
        return Progress(
            status: label,
            completed: text.number(disbursement.linesCompleted), failed: text.number(disbursement.linesFailed),
            total: text.number(disbursement.lineCount),
            paid: text.money(disbursement.amountCompleted, scale: scale, asset: disbursement.asset),
            percent: percent,
            done: ![.approved, .processing].contains(disbursement.status))
    }

    /// The disbursement's progress, live (``ProgressStream``).
    private func progress(id: String) throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let core = core
        let scale = ScaleCache()
        return ProgressStream.response {
            let disbursement = try await core.api.getDisbursement(path: .init(id: id)).ok.body.json
            let assetScale = await scale.value {
                (try? await core.api.getProject(path: .init(id: disbursement.projectId)).ok.body.json)?.assetScale ?? 2
            }
            let progress = Self.progress(
                disbursement, scale: assetScale, text: text,
                label: text.text("disbursement_status_\(disbursement.status.rawValue)"))
            return (progress, progress.done)
        }
    }

    // MARK: Decisions

    private func decide(id: String, action: String) async throws -> Response {
        _ = try core.requireSession()
        let form = Visit.current?.form ?? FormData()
        let text = core.language
        do {
            switch action {
            case "submit": _ = try await core.api.submitDisbursement(path: .init(id: id)).ok
            case "approve":
                _ = try await core.api.approveDisbursement(path: .init(id: id), body: .json(.init(note: form["note"])))
                    .ok
            case "reject":
                guard let note = form["note"] else {
                    Visit.current?.flash(.error, text.text("reject_note_required"))
                    return ConsoleCore.redirect(to: "/console/disbursements/\(id)")
                }
                _ = try await core.api.rejectDisbursement(path: .init(id: id), body: .json(.init(note: note))).ok
            case "cancel": _ = try await core.api.cancelDisbursement(path: .init(id: id)).ok
            default: _ = try await core.api.retryDisbursement(path: .init(id: id), body: .json(.init())).ok
            }
            Visit.current?.flash(.success, text.text("disbursement_done_\(action)"))
        } catch let error where [400, 403, 409].contains(APIProblem.of(error)?.status) {
            Visit.current?.flash(.error, APIProblem.of(error)?.detail ?? "")
        }
        return ConsoleCore.redirect(to: "/console/disbursements/\(id)")
    }
}

/// A project's asset scale, read once per stream.
actor ScaleCache {
    private var scale: Int?

    func value(_ read: @Sendable () async -> Int) async -> Int {
        if let scale { return scale }
        let read = await read()
        scale = read
        return read
    }
}
