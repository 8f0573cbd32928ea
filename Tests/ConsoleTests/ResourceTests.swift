import Foundation
import Testing

@testable import Console

extension ConsoleTests {
    /// The templates, languages and formats the console ships with.
    @Suite("Resources")
    struct Resources {
        static func resources() throws -> ConsoleResources {
            try ConsoleResources.load(configuredPath: nil)
        }

        static var templateDirectory: URL {
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Sources/Console/Resources/templates")
        }

        static var pageSources: URL {
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Sources/Console")
        }

        @Test("every language has exactly the English messages")
        func languagesAreComplete() throws {
            let resources = try Self.resources()
            let english = Set(resources.english.messages.keys)
            #expect(resources.languages.count >= 2)
            for language in resources.languages.values {
                let keys = Set(language.messages.keys)
                #expect(
                    english.subtracting(keys).isEmpty, "\(language.code) lacks \(english.subtracting(keys).sorted())")
                #expect(
                    keys.subtracting(english).isEmpty, "\(language.code) adds \(keys.subtracting(english).sorted())")
                #expect(language.messages.values.allSatisfy { !$0.isEmpty }, "\(language.code) has an empty message")
            }
        }

        @Test("every message a template or page names exists")
        func messagesExist() throws {
            let english = try Self.resources().english.messages
            var named: Set<String> = []
            let templateReference = try Regex(#"\{\{[#^/]?t\.([a-z0-9_]+)\}\}"#)
            for file in try FileManager.default.contentsOfDirectory(atPath: Self.templateDirectory.path) {
                let text = try String(contentsOf: Self.templateDirectory.appendingPathComponent(file), encoding: .utf8)
                for match in text.matches(of: templateReference) {
                    if let key = match.output[1].substring { named.insert(String(key)) }
                }
            }
            let codeReference = try Regex(#"text\("([a-z0-9_]+)""#)
            let enumerator = FileManager.default.enumerator(atPath: Self.pageSources.path)
            while let file = enumerator?.nextObject() as? String {
                guard file.hasSuffix(".swift"), !file.hasPrefix("Generated") else { continue }
                let text = try String(contentsOf: Self.pageSources.appendingPathComponent(file), encoding: .utf8)
                for match in text.matches(of: codeReference) {
                    if let key = match.output[1].substring { named.insert(String(key)) }
                }
            }
            #expect(named.count > 50)
            #expect(named.subtracting(english.keys).isEmpty, "missing: \(named.subtracting(english.keys).sorted())")
        }

        @Test("templates never write a value unescaped")
        func escaping() throws {
            for file in try FileManager.default.contentsOfDirectory(atPath: Self.templateDirectory.path) {
                let text = try String(contentsOf: Self.templateDirectory.appendingPathComponent(file), encoding: .utf8)
                #expect(!text.contains("{{{"), "\(file) uses {{{ }}}")
                #expect(!text.contains("{{&"), "\(file) uses {{& }}")
                #expect(!text.contains("<script>"), "\(file) has an inline script")
                #expect(
                    text.range(of: #"\son[a-z]+="#, options: .regularExpression) == nil, "\(file) has an event handler")
                #expect(!text.contains("style="), "\(file) has an inline style")
            }
        }

        @Test("amounts in each language's digits and grouping, by the asset's scale")
        func money() throws {
            let resources = try Self.resources()
            let english = resources.english
            let nepali = try #require(resources.languages["ne"])
            #expect(english.money(123_456_789, scale: 2, asset: "NPR") == "1,234,567.89 NPR")
            #expect(nepali.money(123_456_789, scale: 2, asset: "NPR") == "१२,३४,५६७.८९ NPR")
            #expect(english.money(5, scale: 2, asset: "NPR") == "0.05 NPR")
            #expect(english.money(-150, scale: 2, asset: "USD") == "-1.50 USD")
            #expect(english.money(1_000, scale: 0, asset: "VOUCHER") == "1,000 VOUCHER")
            #expect(english.money(0, scale: 3, asset: "KWD") == "0.000 KWD")
            #expect(nepali.number(1_00_00_000) == "१,००,००,०००")
            #expect(english.number(999) == "999")
            #expect(english.number(-1_000) == "-1,000")
        }

        @Test("dates in the chosen time zone")
        func dates() throws {
            let resources = try Self.resources()
            let date = Date(timeIntervalSince1970: 1_796_650_200)  // 2026-12-07 13:30 UTC
            let kathmandu = try #require(TimeZone(identifier: "Asia/Kathmandu"))
            #expect(resources.english.dateTime(date, in: .gmt) == "2026-12-07 13:30")
            #expect(resources.english.dateTime(date, in: kathmandu) == "2026-12-07 19:15")
            #expect(try #require(resources.languages["ne"]).dateTime(date, in: kathmandu) == "२०२६-१२-०७ १९:१५")
        }

        @Test("messages with their arguments in place")
        func placeholders() throws {
            let resources = try Self.resources()
            #expect(resources.english.text("approvals_count", "1", "3") == "1 of 3")
            #expect(try #require(resources.languages["ne"]).text("approvals_count", "१", "३") == "३ मध्ये १")
            #expect(resources.english.text("no_such_message") == "no_such_message")
        }

        @Test("the browser's languages, most preferred first")
        func acceptLanguage() {
            #expect(ConsoleCore.acceptedLanguages("ne-NP,ne;q=0.9,en;q=0.8") == ["ne", "ne", "en"])
            #expect(ConsoleCore.acceptedLanguages("en;q=0.5, ne") == ["ne", "en"])
            #expect(ConsoleCore.acceptedLanguages("fr;q=0, *") == [])
            #expect(ConsoleCore.acceptedLanguages("") == [])
        }

        @Test("only console paths are followed after sign-in")
        func nextPaths() {
            #expect(ConsoleCore.isConsolePath("/console/projects?status=active"))
            #expect(!ConsoleCore.isConsolePath("https://evil.example/console"))
            #expect(!ConsoleCore.isConsolePath("//evil.example/console/"))
            #expect(!ConsoleCore.isConsolePath("/console//evil.example"))
            #expect(!ConsoleCore.isConsolePath("/consoleevil"))
            #expect(!ConsoleCore.isConsolePath("/v1/projects"))
        }
    }
}
