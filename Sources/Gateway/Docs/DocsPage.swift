import Foundation

/// The readable API reference served at `/docs`: one self-contained page (no CDN, works offline in
/// field offices) that renders `/openapi.json`, kept as `docs.html` beside this file.
///
/// Everything is inline (CSS and vanilla JavaScript). Text taken from the spec is only ever inserted
/// as DOM text nodes (`append(string)` / `textContent`), never through `innerHTML`.
enum DocsPage {
    /// The page, read from the target's resources.
    static func load() throws -> String {
        guard let url = Bundle.module.url(forResource: "docs", withExtension: "html") else {
            throw DocsPageMissing()
        }
        return try String(contentsOf: url, encoding: .utf8)
    }
}

/// The build left the page out of the gateway's resources.
struct DocsPageMissing: Error, CustomStringConvertible {
    var description: String { "the gateway's resources hold no docs.html" }
}
