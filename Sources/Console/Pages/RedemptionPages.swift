import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import SharedModels

/// Redemptions: a vendor asks to redeem an amount a beneficiary holds, a code goes to the
/// beneficiary's phone, and the code typed in moves the value. The list, asking, and a
/// redemption's page where its code is entered.
struct RedemptionPages: Sendable {
    let core: ConsoleCore

    func register(on console: RouterGroup<GatewayRequestContext>) {
        console.get("redemptions") { request, _ in try await list(request) }
        console.get("redemptions/new") { request, _ in
            try await newRedemption(vendorID: request.uri.queryParameters["vendorId"].map(String.init))
        }
        console.post("redemptions") { _, _ in try await request() }
        console.get("redemptions/:id") { _, context in
            try await detail(id: context.parameters.require("id"), code: nil)
        }
        console.post("redemptions/:id/confirm") { _, context in try await confirm(id: context.parameters.require("id"))
        }
    }

    // MARK: List

    struct ListPage: Sendable {
        var project: Field?
        var status: Field
        var vendorID: String?
        var vendorName: String?
        var rows: [Row]
        var hasRows: Bool
        var newHref: String?
        var next: String?
    }

    struct Row: Sendable {
        var href: String
        var when: String
        var amount: String
        var status: String
        var phone: String
    }

    /// A redemption as a list shows it; `project` gives its amount's scale.
    static func row(
        _ redemption: Components.Schemas.Redemption, project: Components.Schemas.Project?, core: ConsoleCore
    ) -> Row {
        Row(
            href: "/console/redemptions/\(redemption.id)", when: core.dateTime(redemption.createdAt),
            amount: core.money(redemption.amount, asset: redemption.asset, project: project),
            status: core.label(redemption.status, prefix: "redemption_status"), phone: redemption.phoneHint)
    }

    private func list(_ request: Request) async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let query = request.uri.queryParameters
        let own = try await core.ownVendor()
        let filter = try await core.projectFilter(.redemption, asked: query["projectId"].map(String.init), own: own)
        let byID = filter.byID
        let project = filter.chosen
        let vendorID = own?.id ?? query["vendorId"].map(String.init)
        let status = query["status"].flatMap { Components.Schemas.RedemptionStatus(rawValue: String($0)) }
        var rows: [Row] = []
        var next: String?
        if filter.canList {
            let page = try await core.api.listRedemptions(
                query: .init(
                    projectId: project?.id, vendorId: vendorID, status: status, limit: 50,
                    cursor: query["cursor"].map(String.init))
            ).ok.body.json
            rows = page.items.map { Self.row($0, project: byID[$0.projectId], core: core) }
            next = page.nextCursor.map { cursor in
                Pager.link(
                    "/console/redemptions",
                    [
                        "projectId": project?.id, "vendorId": own == nil ? vendorID : nil, "status": status?.rawValue,
                        "cursor": cursor,
                    ])
            }
        }
        let vendorName: String?
        if let own {
            vendorName = own.name
        } else if let vendorID {
            vendorName = try? await core.api.getVendor(path: .init(id: vendorID)).ok.body.json.name
        } else {
            vendorName = nil
        }
        let mayRequest = own != nil || core.permissions.allowsAnywhere(.redemption, .manage)
        let view = ListPage(
            project: filter.projects.count > 1 || !filter.scoped ? filter.field(text) : nil,
            status: .select(
                "status", label: text.text("field_status"),
                choices: core.choices(Components.Schemas.RedemptionStatus.self, prefix: "redemption_status", any: true),
                value: status?.rawValue ?? ""),
            vendorID: own == nil ? vendorID : nil, vendorName: vendorName, rows: rows, hasRows: !rows.isEmpty,
            newHref: mayRequest
                ? Pager.link("/console/redemptions/new", ["vendorId": own == nil ? vendorID : nil]) : nil,
            next: next)
        return core.renderer.page("redemptions", title: text.text("nav_redemptions"), view)
    }

    // MARK: Asking

    struct NewPage: Sendable {
        var vendor: Field?
        var vendorName: String?
        var vendorID: String?
        var fields: [Field]
        var problem: ProblemView?
    }

    /// The vendors the caller may redeem for: a shop's login its own, a manager of redemptions the
    /// active vendors it can read.
    private func vendors() async throws -> (own: Components.Schemas.Vendor?, all: [Components.Schemas.Vendor]) {
        if let own = try await core.ownVendor() { return (own, [own]) }
        guard core.permissions.allowsAnywhere(.vendor, .read), core.projectScope(.vendor) == nil else {
            return (nil, [])
        }
        let page = try await core.api.listVendors(query: .init(limit: 200, status: .active)).ok.body.json
        return (nil, page.items)
    }

    private func requestFields(
        _ form: FormData, vendors: [Components.Schemas.Vendor], projects: [Components.Schemas.Project]
    ) -> [Field] {
        let text = core.language
        let vendorID = form["vendorId"]
        let served = vendors.first { $0.id == vendorID }?.projectIds ?? vendors.first?.projectIds ?? []
        return [
            Field(
                "phone", label: text.text("field_beneficiary_phone"), type: "tel", value: form["phone"] ?? "",
                required: true, autocomplete: "off", hint: text.text("phone_hint")),
            Field(
                "amount", label: text.text("field_amount"), value: form["amount"] ?? "", required: true,
                autocomplete: "off", inputmode: "decimal"),
            .select(
                "projectId", label: text.text("field_project"),
                choices: [("", text.text("redemption_any_project"))]
                    + projects.filter { served.contains($0.id) }.map { ($0.id, $0.name) },
                value: form["projectId"] ?? "", hint: text.text("redemption_project_hint")),
            Field(
                "defaultCountry", label: text.text("field_country"), value: form["defaultCountry"] ?? "",
                hint: text.text("country_hint")),
        ]
    }

    private func newRedemption(
        vendorID: String?, fields: [Field]? = nil, problem: ProblemView? = nil
    ) async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let (own, vendors) = try await vendors()
        guard !vendors.isEmpty else { return core.refusal(status: .forbidden, key: "error_forbidden") }
        let projects = try await core.readableProjects(own: own)
        let chosen = own?.id ?? vendorID ?? ""
        let page = NewPage(
            vendor: own == nil
                ? .select(
                    "vendorId", label: text.text("vendor"), choices: vendors.map { ($0.id, $0.name) }, value: chosen,
                    required: true)
                : nil,
            vendorName: own?.name, vendorID: own?.id,
            fields: fields
                ?? requestFields(FormData(pairs: [("vendorId", chosen)]), vendors: vendors, projects: projects),
            problem: problem)
        return core.renderer.page(
            "redemption-new", title: text.text("redemption_new_title"), page,
            status: problem == nil ? .ok : .badRequest)
    }

    private func request() async throws -> Response {
        _ = try core.requireSession()
        guard let form = Visit.current?.form else { throw SignInRequired() }
        let text = core.language
        let (own, vendors) = try await vendors()
        let projects = try await core.readableProjects(own: own)
        var fields = requestFields(form, vendors: vendors, projects: projects)
        let vendor = vendors.first { $0.id == (own?.id ?? form["vendorId"]) }
        if form["phone"] == nil { fields[0].fail(text.text("error_required")) }
        // The amount is typed in the asset's units; the API takes minor units, so its scale is
        // the chosen project's, or the one all of the vendor's projects share.
        let served = projects.filter { vendor?.projectIds.contains($0.id) ?? false }
        let scales = Set((served.first { $0.id == form["projectId"] }.map { [$0] } ?? served).map(\.assetScale))
        var amount: Int64?
        if let typed = form["amount"] {
            if scales.isEmpty {
                // None of the vendor's projects is readable, so how many decimals the amount has
                // is unknown: guessing would send a hundredfold amount.
                fields[1].fail(text.text("redemption_scale_unknown"))
            } else if scales.count > 1 {
                fields[2].fail(text.text("redemption_choose_project"))
            } else {
                let scale = scales.first ?? 0
                amount = text.parseAmount(typed, scale: scale)
                if amount == nil || amount == 0 { fields[1].fail(text.text("error_amount", text.number(Int64(scale)))) }
            }
        } else {
            fields[1].fail(text.text("error_required"))
        }
        guard let vendor, let phone = form["phone"], let amount, fields.allSatisfy({ $0.error == nil }) else {
            let detail = vendor == nil ? text.text("error_choose") : text.text("error_check_fields")
            return try await newRedemption(
                vendorID: form["vendorId"], fields: fields, problem: ProblemView(detail: detail, fields: fields))
        }
        do {
            let body = Components.Schemas.RequestRedemption(
                vendorId: vendor.id, phone: phone, defaultCountry: form["defaultCountry"]?.uppercased(), amount: amount,
                projectId: form["projectId"])
            // 201 with a new code, or 200 with the live one a double tap asked for before.
            let answer = try await core.api.requestRedemption(body: .json(body))
            let redemption =
                if case .created(let created) = answer { try created.body.json } else { try answer.ok.body.json }
            Visit.current?.flash(.success, text.text("redemption_code_sent", redemption.phoneHint))
            return ConsoleCore.redirect(to: "/console/redemptions/\(redemption.id)")
        } catch let error where [400, 404, 409, 429].contains(APIProblem.of(error)?.status) {
            guard let problem = APIProblem.of(error) else { throw error }
            let view = ProblemView(problem, fields: &fields)
            return try await newRedemption(vendorID: vendor.id, fields: fields, problem: view)
        }
    }

    // MARK: A redemption

    struct DetailPage: Sendable {
        var id: String
        var amount: String
        var status: String
        var facts: [Fact]
        var canConfirm: Bool
        var code: Field
        var problem: ProblemView?
    }

    private func detail(id: String, code: Field?, problem: ProblemView? = nil) async throws -> Response {
        let session = try core.requireSession()
        let text = core.language
        let permissions = core.permissions
        let redemption = try await core.api.getRedemption(path: .init(id: id)).ok.body.json
        let project = try? await core.api.getProject(path: .init(id: redemption.projectId)).ok.body.json
        let vendor = try? await core.api.getVendor(path: .init(id: redemption.vendorId)).ok.body.json
        var facts = [
            Fact(label: text.text("vendor"), value: vendor?.name ?? redemption.vendorId),
            Fact(label: text.text("field_project"), value: project?.name ?? redemption.projectId),
            Fact(label: text.text("redemption_phone"), value: redemption.phoneHint),
            Fact(label: text.text("requested"), value: core.dateTime(redemption.createdAt)),
        ]
        if redemption.status == .requested {
            facts.append(Fact(label: text.text("code_expires"), value: core.dateTime(redemption.expiresAt)))
            facts.append(
                Fact(label: text.text("attempts_left"), value: text.number(Int64(redemption.attemptsRemaining))))
        }
        if let confirmed = redemption.confirmedAt {
            facts.append(Fact(label: text.text("confirmed"), value: core.dateTime(confirmed)))
        }
        if let transfer = redemption.transferId { facts.append(Fact(label: text.text("transfer"), value: transfer)) }
        if let reason = redemption.failureReason { facts.append(Fact(label: text.text("reasons"), value: reason)) }
        let live = redemption.status == .requested && redemption.expiresAt > Date()
        let mayConfirm =
            permissions.allows(Permission(.redemption, .manage, projectID: redemption.projectId))
            || (vendor?.userId == session.userID
                && permissions.allows(Permission(.redemption, .create, projectID: redemption.projectId)))
        let page = DetailPage(
            id: redemption.id, amount: core.money(redemption.amount, asset: redemption.asset, project: project),
            status: core.label(redemption.status, prefix: "redemption_status"), facts: facts,
            canConfirm: live && mayConfirm,
            code: code
                ?? Field(
                    "code", label: text.text("field_code"), required: true, autocomplete: "one-time-code",
                    inputmode: "numeric", hint: text.text("code_hint", redemption.phoneHint)),
            problem: problem)
        return core.renderer.page(
            "redemption", title: text.text("redemption_title"), page, status: problem == nil ? .ok : .badRequest)
    }

    private func confirm(id: String) async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let form = Visit.current?.form ?? FormData()
        var fields = [
            Field(
                "code", label: text.text("field_code"), required: true, autocomplete: "one-time-code",
                inputmode: "numeric")
        ]
        guard let code = form["code"]?.filter({ !$0.isWhitespace }), !code.isEmpty else {
            fields[0].fail(text.text("error_required"))
            return try await detail(
                id: id, code: fields[0], problem: ProblemView(detail: text.text("error_check_fields"), fields: fields))
        }
        do {
            _ = try await core.api.confirmRedemption(path: .init(id: id), body: .json(.init(code: code))).ok
            Visit.current?.flash(.success, text.text("redemption_confirmed"))
        } catch let error where APIProblem.of(error)?.status == 400 {
            guard let problem = APIProblem.of(error) else { throw error }
            let view = ProblemView(problem, fields: &fields)
            return try await detail(id: id, code: fields[0], problem: view)
        } catch let error where [403, 409].contains(APIProblem.of(error)?.status) {
            Visit.current?.flash(.error, APIProblem.of(error)?.detail ?? "")
        }
        return ConsoleCore.redirect(to: "/console/redemptions/\(id)")
    }
}
