import Crypto
import Foundation
import Mustache

/// The console's templates, languages and static assets, read once at start-up from the resource
/// directory SwiftPM builds beside the executable (`rahat_Console.resources`).
struct ConsoleResources: Sendable {
    /// A static file the console serves, addressed by a digest of its content so that browsers
    /// may keep it for a year and still never use a stale one.
    struct Asset: Sendable {
        var name: String
        var bytes: [UInt8]
        var contentType: String
        /// `/console/assets/<digest>/<name>`.
        var path: String
    }

    let templates: MustacheLibrary
    /// Every language by code.
    let languages: [String: Language]
    /// Every asset by name (`console.css`).
    let assets: [String: Asset]

    /// The directory's name beside the executable.
    static let bundleName = "rahat_Console.resources"

    /// Reads the resources from `configuredPath`, or else from beside the running executable.
    static func load(configuredPath: String?) throws -> ConsoleResources {
        try load(from: locate(configuredPath: configuredPath))
    }

    static func locate(configuredPath: String?) throws -> String {
        var candidates: [String] = []
        if let configuredPath {
            candidates.append(configuredPath)
        } else {
            let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
            candidates.append(executable.deletingLastPathComponent().appendingPathComponent(bundleName).path)
            candidates.append(Bundle.main.bundleURL.appendingPathComponent(bundleName).path)
        }
        // SwiftPM's `.copy("Resources")` keeps the folder's name inside the bundle.
        for candidate in candidates {
            let resources = URL(fileURLWithPath: candidate).appendingPathComponent("Resources").path
            if FileManager.default.fileExists(atPath: resources + "/templates") { return resources }
            if FileManager.default.fileExists(atPath: candidate + "/templates") { return candidate }
        }
        throw ConsoleResourceError.notFound(candidates)
    }

    static func load(from directory: String) throws -> ConsoleResources {
        var templates = MustacheLibrary()
        let templateDirectory = URL(fileURLWithPath: directory).appendingPathComponent("templates")
        for file in try FileManager.default.contentsOfDirectory(atPath: templateDirectory.path).sorted()
        where file.hasSuffix(".mustache") {
            let text = try String(contentsOf: templateDirectory.appendingPathComponent(file), encoding: .utf8)
            do {
                try templates.register(text, named: String(file.dropLast(".mustache".count)))
            } catch {
                throw ConsoleResourceError.invalid("templates/\(file): \(error)")
            }
        }
        guard templates.getTemplate(named: "layout") != nil else {
            throw ConsoleResourceError.invalid("no templates/layout.mustache in \(directory)")
        }
        var languages: [String: Language] = [:]
        let languageDirectory = URL(fileURLWithPath: directory).appendingPathComponent("languages")
        for file in try FileManager.default.contentsOfDirectory(atPath: languageDirectory.path).sorted()
        where file.hasSuffix(".json") {
            let language = try Language(json: Data(contentsOf: languageDirectory.appendingPathComponent(file)))
            guard file == language.code + ".json" else {
                throw ConsoleResourceError.invalid("languages/\(file) describes '\(language.code)'")
            }
            languages[language.code] = language
        }
        guard languages["en"] != nil else { throw ConsoleResourceError.invalid("no languages/en.json") }
        var assets: [String: Asset] = [:]
        let assetDirectory = URL(fileURLWithPath: directory).appendingPathComponent("assets")
        for file in try FileManager.default.contentsOfDirectory(atPath: assetDirectory.path).sorted() {
            let bytes = try [UInt8](Data(contentsOf: assetDirectory.appendingPathComponent(file)))
            let digest = SHA256.hash(data: bytes).prefix(8).map { String(format: "%02x", $0) }.joined()
            assets[file] = Asset(
                name: file, bytes: bytes, contentType: contentType(of: file),
                path: "/console/assets/\(digest)/\(file)")
        }
        return ConsoleResources(templates: templates, languages: languages, assets: assets)
    }

    private static func contentType(of file: String) -> String {
        switch file.split(separator: ".").last {
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        default: "application/octet-stream"
        }
    }
}
