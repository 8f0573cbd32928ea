/// The readable API reference served at `/docs`: one self-contained page (no CDN, works offline in
/// field offices) that renders `/openapi.json`. It is written as `docs.html` beside this file and
/// compiled in as ``html`` by `scripts/generate-openapi`, so a copied binary serves it without a
/// resource bundle beside it.
///
/// Everything is inline (CSS and vanilla JavaScript). Text taken from the spec is only ever inserted
/// as DOM text nodes (`append(string)` / `textContent`), never through `innerHTML`.
enum DocsPage {}
