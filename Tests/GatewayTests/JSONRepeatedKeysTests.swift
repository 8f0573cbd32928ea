import Testing

@testable import Gateway

extension GatewayTests {
    /// The scan that finds a key an object gives twice, before the decoder keeps one of them.
    @Suite("JSON repeated keys")
    struct JSONRepeatedKeysTests {
        static func first(_ text: String) -> String? { JSONRepeatedKeys.first(in: Array(text.utf8)) }

        @Test("a repeated key is named by its path, in objects nested in arrays and objects")
        func paths() {
            #expect(Self.first(#"{"a":1,"b":2,"a":3}"#) == "a")
            #expect(Self.first(#"{"filter":{"gender":"f","gender":"m"}}"#) == "filter.gender")
            #expect(Self.first(#"{"lines":[{"id":1},{"id":2},{"id":3,"amount":1,"amount":2}]}"#) == "lines[2].amount")
            #expect(Self.first(#"[[1],[2,{"x":1,"x":2}]]"#) == "[1][1].x")
        }

        @Test("keys are compared as the decoder reads them: escapes decoded, canonically equivalent text alike")
        func spellings() {
            #expect(Self.first(#"{"name":1,"n\u0061me":2}"#) == "name")
            #expect(Self.first(#"{"caf\u00e9":1,"cafe\u0301":2}"#) == "café")
            #expect(Self.first(#"{"\ud83d\ude00":1,"😀":2}"#) == "😀")
            #expect(Self.first(#"{"a\"b":1,"a\"b":2}"#) == #"a"b"#)
        }

        @Test("what is not a repeated key is not one: values, other objects' keys, quotes and brackets in strings")
        func notRepeated() {
            #expect(Self.first(#"{"a":"a","b":{"a":1},"c":[{"a":1},{"a":2}]}"#) == nil)
            #expect(Self.first(#"{"a":"}{\"a\":1,","b":"[\"a\"]"}"#) == nil)
            #expect(Self.first(#"{"a":1,"A":2}"#) == nil)
            #expect(Self.first(#"not json at all "a" "a""#) == nil)
        }

        @Test("an object of two hundred thousand keys is scanned in one pass", .timeLimit(.minutes(1)))
        func manyKeys() {
            // Each insert once copied the object's whole key set: this took minutes.
            let keys = (0..<200_000).map { #""k\#($0)":0"# }
            #expect(Self.first("{" + keys.joined(separator: ",") + "}") == nil)
            #expect(Self.first("{" + keys.joined(separator: ",") + #","k7":1}"#) == "k7")
        }

        @Test("nesting a hundred thousand deep costs the scan no stack")
        func deepNesting() {
            let deep =
                String(repeating: "[", count: 100_000) + #"{"k":1,"k":2}"# + String(repeating: "]", count: 100_000)
            #expect(Self.first(deep)?.hasSuffix("[0].k") == true)
        }
    }
}
