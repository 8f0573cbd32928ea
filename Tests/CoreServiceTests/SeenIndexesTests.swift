import Testing

@testable import CoreService

/// The import's memory of the blind indexes it has seen: compact, yet never confusing two values.
@Suite("Seen blind indexes")
struct SeenIndexesTests {
    /// A 64-digit index made of three parts: the first 16 digits, the next 8, and the rest.
    static func index(_ first: String, _ next: String, _ rest: String = String(repeating: "0", count: 40)) -> String {
        first + next + rest
    }

    @Test("an index is found on the line it was first seen on, and only there")
    func firstLine() {
        var seen = SeenIndexes()
        let a = SeenIndexes.Key(Self.index("0123456789abcdef", "01234567"))
        let b = SeenIndexes.Key(Self.index("fedcba9876543210", "01234567"))
        #expect(seen.firstLine(of: a) == nil)
        seen.remember(a, at: 2)
        seen.remember(a, at: 9)
        #expect(seen.firstLine(of: a) == 2)
        #expect(seen.firstLine(of: b) == nil)
        seen.remember(b, at: 3)
        #expect(seen.firstLine(of: b) == 3)
    }

    @Test("indexes that share their first 64 bits but not the next 32 stay apart")
    func clashingPrefix() {
        var seen = SeenIndexes()
        let a = SeenIndexes.Key(Self.index("0123456789abcdef", "00000001"))
        let b = SeenIndexes.Key(Self.index("0123456789abcdef", "00000002"))
        seen.remember(a, at: 10)
        #expect(seen.firstLine(of: b) == nil)
        seen.remember(b, at: 20)
        #expect(seen.firstLine(of: a) == 10)
        #expect(seen.firstLine(of: b) == 20)
    }

    @Test("a line past 32 bits is kept whole")
    func largeLine() {
        var seen = SeenIndexes()
        let a = SeenIndexes.Key(Self.index("0123456789abcdef", "00000001"))
        let b = SeenIndexes.Key(Self.index("0123456789abcdef", "00000002"))
        let far = Int(UInt32.max) + 5
        seen.remember(a, at: far)
        #expect(seen.firstLine(of: a) == far)
        #expect(seen.firstLine(of: b) == nil)
        seen.remember(b, at: 7)
        #expect(seen.firstLine(of: b) == 7)
        #expect(seen.firstLine(of: a) == far)
    }

    @Test("text that is not a digest is compared whole")
    func text() {
        var seen = SeenIndexes()
        let upper = SeenIndexes.Key(Self.index("0123456789ABCDEF", "01234567"))
        let short = SeenIndexes.Key("abc")
        seen.remember(upper, at: 4)
        seen.remember(short, at: 5)
        #expect(seen.firstLine(of: upper) == 4)
        #expect(seen.firstLine(of: short) == 5)
        #expect(seen.firstLine(of: SeenIndexes.Key(Self.index("0123456789abcdef", "01234567"))) == nil)
        #expect(seen.firstLine(of: SeenIndexes.Key("abcd")) == nil)
    }
}
