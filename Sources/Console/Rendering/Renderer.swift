import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore
import SharedModels

/// What every page shows around its content: the header, navigation, messages and footer.
struct Chrome: Sendable {
    struct User: Sendable {
        var name: String
    }

    struct NavLink: Sendable {
        var href: String
        var label: String
        var current: Bool
    }

    struct Flash: Sendable {
        var kind: String
        var text: String
        /// Errors interrupt (`alert`); confirmations wait their turn (`status`).
        var role: String
    }

    struct LanguageChoice: Sendable {
        var code: String
        var name: String
        var selected: Bool
    }

    var lang: String
    var title: String
    var css: String
    var js: String
    var csrf: String
    var user: User?
    var nav: [NavLink]
    var flash: Flash?
    var languages: [LanguageChoice]
    var path: String
}

/// A page's template input: the language's messages as `t`, the chrome, and the page's own data.
struct View<Page: Sendable>: Sendable {
    var t: [String: String]
    var chrome: Chrome
    var page: Page
}

/// Renders pages with the console's templates, in the visit's language.
struct Renderer: Sendable {
    let resources: ConsoleResources

    /// The navigation, by the permission that makes each entry worth showing. Some lists are of
    /// every project at once (users, roles): the API answers them only to a
    /// caller whose grant is not limited to projects, so only such a caller is offered them.
    private static let sections: [(path: String, key: String, subject: Permission.Subject?, everywhere: Bool)] = [
        ("/console", "nav_home", nil, false),
        ("/console/projects", "nav_projects", .project, false),
        ("/console/beneficiaries", "nav_beneficiaries", .beneficiary, false),
        ("/console/imports", "nav_imports", .beneficiary, false),
        ("/console/verifications", "nav_verification", .beneficiary, false),
        ("/console/disbursements", "nav_disbursements", .disbursement, false),
        ("/console/vendors", "nav_vendors", .vendor, false),
        ("/console/redemptions", "nav_redemptions", .redemption, false),
        ("/console/settlements", "nav_settlements", .settlement, false),
        ("/console/ledger", "nav_ledger", .ledger, false),
        ("/console/jobs", "nav_jobs", nil, false),
        ("/console/users", "nav_users", .user, true),
        ("/console/roles", "nav_roles", .role, true),
        ("/console/api-keys", "nav_api_keys", nil, false),
    ]

    /// `template` filled with `page`, as a complete HTML response.
    func page<Page: Sendable>(
        _ template: String, title: String, _ page: Page, status: HTTPResponse.Status = .ok
    ) -> Response {
        let visit = Visit.current
        let language = visit?.language ?? resources.languages["en"]
        let session = visit?.session
        let permissions = PermissionSet(parsing: session?.permissions ?? [])
        let path = visit?.target ?? "/console"
        let currentSection = Self.sections.last { section in
            section.path == "/console" ? path == "/console" : path.hasPrefix(section.path)
        }
        let nav = Self.sections.filter { section in
            section.subject.map { subject in
                section.everywhere
                    ? permissions.allows(Permission(subject, .read)) : permissions.allowsAnywhere(subject, .read)
            } ?? true
        }.map { section in
            Chrome.NavLink(
                href: section.path, label: language?.text(section.key) ?? section.key,
                current: section.path == currentSection?.path)
        }
        let flash = visit?.takeFlash().map { flash in
            Chrome.Flash(kind: flash.kind.rawValue, text: flash.text, role: flash.kind == .error ? "alert" : "status")
        }
        let chrome = Chrome(
            lang: language?.code ?? "en",
            title: title,
            css: resources.assets["console.css"]?.path ?? "",
            js: resources.assets["console.js"]?.path ?? "",
            csrf: session?.csrfToken ?? visit?.signInToken ?? "",
            user: session.map { Chrome.User(name: $0.userName) },
            nav: session == nil ? [] : nav,
            flash: flash,
            languages: resources.languages.values.sorted { $0.code < $1.code }.map {
                Chrome.LanguageChoice(code: $0.code, name: $0.name, selected: $0.code == language?.code)
            },
            path: path
        )
        let view = View(t: language?.messages ?? [:], chrome: chrome, page: page)
        let html = resources.templates.render(view, withTemplate: template) ?? ""
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
    }
}
