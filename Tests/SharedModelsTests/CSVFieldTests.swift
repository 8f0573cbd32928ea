import SharedModels
import Testing

@Suite("CSV fields")
struct CSVFieldTests {
    @Test(
        "text a spreadsheet would run is written as text, and quoting follows RFC 4180",
        arguments: [
            ("plain", "plain"),
            ("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\""),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("-12.5", "-12.5"),
            ("a,b", "\"a,b\""),
            ("line\nbreak", "\"line\nbreak\""),
            ("carriage\rreturn", "\"carriage\rreturn\""),
            ("\r\nfirst", "\"'\r\nfirst\""),
        ])
    func escaped(value: String, expected: String) {
        #expect(CSVField.escape(value) == expected)
    }
}
