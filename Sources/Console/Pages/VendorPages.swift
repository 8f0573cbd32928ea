import Foundation
import Gateway
import Hummingbird
import SharedModels

/// Vendors, the shops and cash-out agents beneficiaries redeem with: the list, registering one
/// with its login and payout account, a vendor's page with the projects it serves and its latest
/// redemptions, editing it, and a new payout account waiting for a second person's decision.
struct VendorPages: Sendable {
    let core: ConsoleCore

    func register(on console: RouterGroup<GatewayRequestContext>) {
        console.get("vendors") { request, _ in try await list(request) }
        console.get("vendors/new") { _, _ in try await form(vendor: nil, fields: nil, problem: nil) }
        console.post("vendors") { _, _ in try await save(id: nil) }
        console.get("vendors/:id") { _, context in try await detail(id: context.parameters.require("id")) }
        console.get("vendors/:id/edit") { _, context in
            let vendor = try await core.api.getVendor(path: .init(id: context.parameters.require("id"))).ok.body.json
            return try await form(vendor: vendor, fields: nil, problem: nil)
        }
        console.post("vendors/:id") { _, context in try await save(id: context.parameters.require("id")) }
        console.post("vendors/:id/deactivate") { _, context in
            try await deactivate(id: context.parameters.require("id"))
        }
        console.post("vendors/:id/payout-change") { _, context in
            try await decide(id: context.parameters.require("id"))
        }
        console.post("vendors/:id/projects") { _, context in try await assign(id: context.parameters.require("id")) }
        console.post("vendors/:id/projects/:projectId/remove") { _, context in
            try await unassign(id: context.parameters.require("id"), from: context.parameters.require("projectId"))
        }
    }

    // MARK: List

    struct ListPage: Sendable {
        var project: Field
        var status: Field
        var rows: [Row]
        var hasRows: Bool
        var canRegister: Bool
        var next: String?
    }

    struct Row: Sendable {
        var href: String
        var name: String
        var location: String
        var payout: String
        var projects: String
        var status: String
    }

    private func list(_ request: Request) async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        let permissions = core.permissions
        guard permissions.allowsAnywhere(.vendor, .read) else {
            // A shop's own login has one vendor: its own page is the list.
            guard let own = try await core.ownVendor() else {
                return core.refusal(status: .forbidden, key: "error_forbidden")
            }
            return ConsoleCore.redirect(to: "/console/vendors/\(own.id)")
        }
        let query = request.uri.queryParameters
        let filter = try await core.projectFilter(.vendor, asked: query["projectId"].map(String.init))
        let project = filter.chosen
        let status = query["status"].flatMap { Components.Schemas.VendorStatus(rawValue: String($0)) }
        var rows: [Row] = []
        var next: String?
        if filter.canList {
            let page = try await core.api.listVendors(
                query: .init(
                    limit: 50, cursor: query["cursor"].map(String.init), projectId: project?.id, status: status)
            ).ok.body.json
            rows = page.items.map { vendor in
                Row(
                    href: "/console/vendors/\(vendor.id)", name: vendor.name, location: vendor.location ?? "",
                    payout: Self.summary(of: vendor.payoutAccount),
                    projects: text.number(Int64(vendor.projectIds.count)),
                    status: core.label(vendor.status, prefix: "vendor_status"))
            }
            next = page.nextCursor.map { cursor in
                Pager.link(
                    "/console/vendors", ["projectId": project?.id, "status": status?.rawValue, "cursor": cursor])
            }
        }
        let view = ListPage(
            project: filter.field(text),
            status: .select(
                "status", label: text.text("field_status"),
                choices: core.choices(Components.Schemas.VendorStatus.self, prefix: "vendor_status", any: true),
                value: status?.rawValue ?? ""),
            rows: rows, hasRows: !rows.isEmpty,
            canRegister: permissions.allows(Permission(.vendor, .create)), next: next)
        return core.renderer.page("vendors", title: text.text("nav_vendors"), view)
    }

    /// Where a vendor is paid, without the whole number: enough to tell accounts apart in a list.
    static func summary(of account: Components.Schemas.PayoutAccount) -> String {
        let (institution, number) =
            switch account._type {
            case .bank: (account.bankName ?? "", account.accountNumber ?? "")
            case .mobileMoney: (account.provider ?? "", account.mobileNumber ?? "")
            }
        let digits = number.filter(\.isNumber)
        return digits.count > 4 ? "\(institution) …\(digits.suffix(4))" : institution
    }

    // MARK: Detail

    struct DetailPage: Sendable {
        var id: String
        var name: String
        var status: String
        var facts: [Fact]
        var payout: [Fact]
        var pending: Pending?
        var served: [Served]
        var hasServed: Bool
        var assign: Field?
        var canEdit: Bool
        var canDeactivate: Bool
        var deactivateQuestion: String
        var redemptions: [RedemptionPages.Row]
        var hasRedemptions: Bool
        var redemptionsHref: String
        var canRedeem: Bool
    }

    struct Pending: Sendable {
        var payout: [Fact]
        var requested: String
        var canDecide: Bool
        var note: Field
    }

    struct Served: Sendable {
        var id: String
        var name: String
        var href: String?
        var canRemove: Bool
        var removeQuestion: String
    }

    private func detail(id: String) async throws -> Response {
        let session = try core.requireSession()
        let text = core.language
        let permissions = core.permissions
        let vendor = try await core.api.getVendor(path: .init(id: id)).ok.body.json
        let projects = try await core.readableProjects(own: vendor.userId == session.userID ? vendor : nil)
        let names = Dictionary(projects.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var facts = [Fact(label: text.text("field_status"), value: core.label(vendor.status, prefix: "vendor_status"))]
        for (key, value) in [
            ("field_phone", vendor.phone), ("field_email", vendor.email), ("field_location", vendor.location),
        ] {
            if let value, !value.isEmpty { facts.append(Fact(label: text.text(key), value: value)) }
        }
        facts.append(Fact(label: text.text("registered"), value: core.dateTime(vendor.createdAt)))
        if let deactivated = vendor.deactivatedAt {
            facts.append(Fact(label: text.text("deactivated"), value: core.dateTime(deactivated)))
        }
        let active = vendor.status == .active
        let served = vendor.projectIds.map { projectID in
            let mayUpdate = permissions.allows(Permission(.vendor, .update, projectID: projectID))
            let name = names[projectID]?.name ?? text.text("project_hidden", String(projectID.prefix(8)))
            return Served(
                id: projectID, name: name,
                href: permissions.allowsAnywhere(.project, .read) ? "/console/projects/\(projectID)" : nil,
                canRemove: mayUpdate, removeQuestion: text.text("vendor_unassign_confirm", vendor.name, name))
        }
        let assignable = projects.filter { project in
            project.status != .closed && !vendor.projectIds.contains(project.id)
                && permissions.allows(Permission(.vendor, .update, projectID: project.id))
        }
        let pending = vendor.pendingPayoutChange.map { change in
            Pending(
                payout: payoutFacts(change.payoutAccount),
                requested: text.text("payout_change_requested", core.dateTime(change.requestedAt)),
                canDecide: permissions.allows(Permission(.vendor, .approve)) && change.requestedBy != session.userID,
                note: Field("note", label: text.text("field_note_optional")))
        }
        // The latest redemptions, when the caller may read them for every project at once.
        let recent = try? await core.api.listRedemptions(query: .init(vendorId: vendor.id, limit: 10)).ok.body.json
        let redemptions = (recent?.items ?? []).map {
            RedemptionPages.row($0, project: names[$0.projectId], core: core)
        }
        let page = DetailPage(
            id: vendor.id, name: vendor.name, status: core.label(vendor.status, prefix: "vendor_status"), facts: facts,
            payout: payoutFacts(vendor.payoutAccount), pending: pending, served: served, hasServed: !served.isEmpty,
            assign: active && !assignable.isEmpty
                ? .select(
                    "projectId", label: text.text("field_project"), choices: assignable.map { ($0.id, $0.name) },
                    value: "")
                : nil,
            canEdit: permissions.allows(Permission(.vendor, .update)),
            canDeactivate: active && permissions.allows(Permission(.vendor, .update)),
            deactivateQuestion: text.text("vendor_deactivate_confirm", vendor.name),
            redemptions: redemptions, hasRedemptions: !redemptions.isEmpty,
            redemptionsHref: Pager.link("/console/redemptions", ["vendorId": vendor.id]),
            canRedeem: active
                && (permissions.allowsAnywhere(.redemption, .manage)
                    || (vendor.userId == session.userID && permissions.allowsAnywhere(.redemption, .create)))
        )
        return core.renderer.page("vendor", title: vendor.name, page)
    }

    private func payoutFacts(_ account: Components.Schemas.PayoutAccount) -> [Fact] {
        let text = core.language
        let values: [(String, String?)] =
            switch account._type {
            case .bank:
                [
                    ("payout_type", text.text("payout_type_bank")), ("field_bank_name", account.bankName),
                    ("field_account_name", account.accountName), ("field_account_number", account.accountNumber),
                    ("field_branch", account.branch), ("field_bic", account.bic),
                ]
            case .mobileMoney:
                [
                    ("payout_type", text.text("payout_type_mobile_money")), ("field_provider", account.provider),
                    ("field_mobile_number", account.mobileNumber),
                ]
            }
        return values.compactMap { key, value in value.map { Fact(label: text.text(key), value: $0) } }
    }

    // MARK: Register and edit

    struct FormPage: Sendable {
        var title: String
        var action: String
        var cancel: String
        var intro: String?
        var details: [Field]
        var login: [Field]
        var hasLogin: Bool
        var payoutType: Field
        var bank: [Field]
        var mobile: [Field]
        var problem: ProblemView?
    }

    /// The form's fields, named as the API names them so that its errors land on them.
    private func fields(_ form: FormData, vendor: Components.Schemas.Vendor?) -> [Field] {
        let text = core.language
        let account = vendor?.pendingPayoutChange?.payoutAccount ?? vendor?.payoutAccount
        func value(_ name: String, _ stored: String?) -> String { form.raw(name) ?? stored ?? "" }
        var fields = [
            Field("name", label: text.text("field_name"), value: value("name", vendor?.name), required: true),
            Field(
                "phone", label: text.text("field_phone"), type: "tel", value: value("phone", vendor?.phone),
                autocomplete: "off", hint: text.text("phone_hint")),
            Field("location", label: text.text("field_location"), value: value("location", vendor?.location)),
            Field(
                "country", label: text.text("field_country"), value: value("country", nil),
                hint: text.text("country_hint")),
        ]
        if vendor == nil {
            fields += [
                Field(
                    "email", label: text.text("field_email"), type: "email", value: value("email", nil),
                    required: true, autocomplete: "off", hint: text.text("vendor_login_hint")),
                Field(
                    "password", label: text.text("field_password"), type: "password", required: true,
                    autocomplete: "new-password", hint: text.text("password_hint")),
            ]
        }
        fields.append(
            .select(
                "payoutAccount.type", label: text.text("payout_type"),
                choices: core.choices(Components.Schemas.PayoutAccount._TypePayload.self, prefix: "payout_type"),
                value: value("payoutAccount.type", account?._type.rawValue), required: true,
                hint: vendor == nil ? nil : text.text("payout_change_hint")))
        // Only the fields of the chosen kind are sent, and the API names any missing, so neither
        // group is marked required.
        let stored: [(String, String?)] = [
            ("bankName", account?.bankName), ("accountName", account?.accountName),
            ("accountNumber", account?.accountNumber), ("branch", account?.branch), ("bic", account?.bic),
            ("provider", account?.provider), ("mobileNumber", account?.mobileNumber),
        ]
        for (name, stored) in stored {
            let key = "field_" + name.reduce(into: "") { $0 += $1.isUppercase ? "_" + $1.lowercased() : String($1) }
            fields.append(
                Field(
                    "payoutAccount." + name, label: text.text(key), type: name == "mobileNumber" ? "tel" : "text",
                    value: value("payoutAccount." + name, stored), autocomplete: "off",
                    hint: name == "mobileNumber" ? text.text("mobile_number_hint") : nil))
        }
        return fields
    }

    private func form(
        vendor: Components.Schemas.Vendor?, fields: [Field]?, problem: ProblemView?
    ) async throws
        -> Response
    {
        _ = try core.requireSession()
        let text = core.language
        let fields = fields ?? self.fields(FormData(), vendor: vendor)
        func group(_ prefix: String, _ names: [String]) -> [Field] {
            fields.filter { field in names.contains { field.name == prefix + $0 } }
        }
        let page = FormPage(
            title: vendor.map { text.text("vendor_edit_title", $0.name) } ?? text.text("vendor_new_title"),
            action: vendor.map { "/console/vendors/\($0.id)" } ?? "/console/vendors",
            cancel: vendor.map { "/console/vendors/\($0.id)" } ?? "/console/vendors",
            intro: vendor == nil ? text.text("vendor_new_intro") : nil,
            details: group("", ["name", "phone", "location", "country"]),
            login: group("", ["email", "password"]), hasLogin: vendor == nil,
            payoutType: fields.first { $0.name == "payoutAccount.type" } ?? Field("payoutAccount.type", label: ""),
            bank: group("payoutAccount.", ["bankName", "accountName", "accountNumber", "branch", "bic"]),
            mobile: group("payoutAccount.", ["provider", "mobileNumber"]),
            problem: problem)
        return core.renderer.page(
            "vendor-form", title: page.title, page, status: problem == nil ? .ok : .badRequest)
    }

    private func save(id: String?) async throws -> Response {
        _ = try core.requireSession()
        guard let form = Visit.current?.form else { throw SignInRequired() }
        let text = core.language
        let vendor: Components.Schemas.Vendor? =
            if let id { try await core.api.getVendor(path: .init(id: id)).ok.body.json } else { nil }
        var fields = self.fields(form, vendor: vendor)
        func fail(_ name: String, _ key: String) {
            if let index = fields.firstIndex(where: { $0.name == name }) { fields[index].fail(text.text(key)) }
        }
        if form["name"] == nil { fail("name", "error_required") }
        if vendor == nil {
            if form["email"] == nil { fail("email", "error_required") }
            if form.raw("password")?.isEmpty ?? true { fail("password", "error_required") }
        }
        let account = Self.payoutAccount(form)
        if account == nil { fail("payoutAccount.type", "error_choose") }
        guard fields.allSatisfy({ $0.error == nil }), let account, let name = form["name"] else {
            return try await self.form(
                vendor: vendor, fields: fields,
                problem: ProblemView(detail: text.text("error_check_fields"), fields: fields))
        }
        do {
            if let vendor {
                let current = vendor.pendingPayoutChange?.payoutAccount ?? vendor.payoutAccount
                let changes = Components.Schemas.UpdateVendorRequest(
                    name: name == vendor.name ? nil : name,
                    phone: form["phone"] == vendor.phone ? nil : form["phone"] ?? (vendor.phone == nil ? nil : ""),
                    location: form["location"] == vendor.location
                        ? nil : form["location"] ?? (vendor.location == nil ? nil : ""),
                    payoutAccount: account == current ? nil : account, country: form["country"]?.uppercased())
                guard
                    changes.name != nil || changes.phone != nil || changes.location != nil
                        || changes.payoutAccount != nil
                else {
                    Visit.current?.flash(.success, text.text("nothing_changed"))
                    return ConsoleCore.redirect(to: "/console/vendors/\(vendor.id)")
                }
                _ = try await core.api.updateVendor(path: .init(id: vendor.id), body: .json(changes)).ok
                Visit.current?.flash(
                    .success, text.text(changes.payoutAccount == nil ? "vendor_saved" : "vendor_saved_payout_pending"))
                return ConsoleCore.redirect(to: "/console/vendors/\(vendor.id)")
            }
            let created = try await core.api.registerVendor(
                body: .json(
                    .init(
                        name: name, phone: form["phone"], email: form["email"], password: form.raw("password"),
                        location: form["location"], payoutAccount: account, country: form["country"]?.uppercased()))
            ).created.body.json
            Visit.current?.flash(.success, text.text("vendor_registered", created.name))
            return ConsoleCore.redirect(to: "/console/vendors/\(created.id)")
        } catch let error where [400, 409].contains(APIProblem.of(error)?.status) {
            guard let problem = APIProblem.of(error) else { throw error }
            let view = ProblemView(problem, fields: &fields)
            return try await self.form(vendor: vendor, fields: fields, problem: view)
        }
    }

    /// The payout account the form describes, with only the fields of its type.
    static func payoutAccount(_ form: FormData) -> Components.Schemas.PayoutAccount? {
        guard let type = form["payoutAccount.type"].flatMap(Components.Schemas.PayoutAccount._TypePayload.init)
        else { return nil }
        func field(_ name: String) -> String? { form["payoutAccount." + name] }
        return switch type {
        case .bank:
            .init(
                _type: .bank, bankName: field("bankName"), accountName: field("accountName"),
                accountNumber: field("accountNumber"), branch: field("branch"), bic: field("bic")?.uppercased())
        case .mobileMoney: .init(_type: .mobileMoney, provider: field("provider"), mobileNumber: field("mobileNumber"))
        }
    }

    // MARK: Actions

    private func deactivate(id: String) async throws -> Response {
        _ = try core.requireSession()
        _ = try await core.api.deactivateVendor(path: .init(id: id)).ok
        Visit.current?.flash(.success, core.language.text("vendor_deactivated"))
        return ConsoleCore.redirect(to: "/console/vendors/\(id)")
    }

    private func decide(id: String) async throws -> Response {
        _ = try core.requireSession()
        let form = Visit.current?.form ?? FormData()
        let text = core.language
        let body = Components.Schemas.PayoutChangeDecision(note: form["note"])
        do {
            if form["decision"] == "approve" {
                _ = try await core.api.approvePayoutChange(path: .init(id: id), body: .json(body)).ok
                Visit.current?.flash(.success, text.text("payout_change_approved"))
            } else {
                _ = try await core.api.rejectPayoutChange(path: .init(id: id), body: .json(body)).ok
                Visit.current?.flash(.success, text.text("payout_change_rejected"))
            }
        } catch let error where [400, 403, 404, 409].contains(APIProblem.of(error)?.status) {
            Visit.current?.flash(.error, APIProblem.of(error)?.detail ?? "")
        }
        return ConsoleCore.redirect(to: "/console/vendors/\(id)")
    }

    private func assign(id: String) async throws -> Response {
        _ = try core.requireSession()
        let text = core.language
        guard let projectID = Visit.current?.form["projectId"] else {
            Visit.current?.flash(.error, text.text("error_choose"))
            return ConsoleCore.redirect(to: "/console/vendors/\(id)")
        }
        do {
            _ = try await core.api.assignVendor(path: .init(id: projectID), body: .json(.init(vendorId: id))).ok
            Visit.current?.flash(.success, text.text("vendor_assigned"))
        } catch let error where [400, 403, 404, 409].contains(APIProblem.of(error)?.status) {
            Visit.current?.flash(.error, APIProblem.of(error)?.detail ?? "")
        }
        return ConsoleCore.redirect(to: "/console/vendors/\(id)")
    }

    private func unassign(id: String, from projectID: String) async throws -> Response {
        _ = try core.requireSession()
        do {
            _ = try await core.api.unassignVendor(path: .init(id: projectID, vendorId: id)).noContent
            Visit.current?.flash(.success, core.language.text("vendor_unassigned"))
        } catch let error where [403, 404].contains(APIProblem.of(error)?.status) {
            Visit.current?.flash(.error, APIProblem.of(error)?.detail ?? "")
        }
        return ConsoleCore.redirect(to: "/console/vendors/\(id)")
    }
}
