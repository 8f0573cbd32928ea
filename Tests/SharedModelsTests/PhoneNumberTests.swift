import SharedModels
import Testing

@Suite("Phone numbers")
struct PhoneNumberTests {
    /// What was typed, the default country, and the E.164 form expected.
    struct Valid: Sendable, CustomTestStringConvertible {
        let text: String
        let country: String?
        let e164: String

        init(_ text: String, _ country: String?, _ e164: String) {
            self.text = text
            self.country = country
            self.e164 = e164
        }

        var testDescription: String { "\"\(text)\" in \(country ?? "no country") → \(e164)" }
    }

    static let valid: [Valid] = [
        // Nepal: mobiles have no trunk prefix; landlines are dialled 0 + area code.
        Valid("9841234567", "NP", "+9779841234567"),
        Valid("984-123-4567", "np", "+9779841234567"),
        Valid("+977 984 1234567", nil, "+9779841234567"),
        Valid("00977 9841234567", "IN", "+9779841234567"),
        Valid("01-4123456", "NP", "+97714123456"),
        Valid("९८४१२३४५६७", "NP", "+9779841234567"),
        // Bangladesh
        Valid("01712-345678", "BD", "+8801712345678"),
        Valid("+880 1712 345678", nil, "+8801712345678"),
        // India
        Valid("098765 43210", "IN", "+919876543210"),
        Valid("(+91) 98765-43210", nil, "+919876543210"),
        Valid("919876543210", "IN", "+919876543210"),
        // Pakistan, Afghanistan
        Valid("0300 1234567", "PK", "+923001234567"),
        Valid("070 123 4567", "AF", "+93701234567"),
        // Kenya
        Valid("0712 345 678", "KE", "+254712345678"),
        Valid("712345678", "KE", "+254712345678"),
        Valid("+254 (0) 712 345 678", nil, "+254712345678"),
        Valid("254712345678", "ke", "+254712345678"),
        // Uganda, Ethiopia, Somalia
        Valid("0772 123456", "UG", "+256772123456"),
        Valid("091 123 4567", "ET", "+251911234567"),
        Valid("061 5123456", "SO", "+252615123456"),
        // Nigeria
        Valid("0803 123 4567", "NG", "+2348031234567"),
        Valid("+234 803 123 4567", "NG", "+2348031234567"),
        // Central and West Africa: Congo keeps its leading 0, Cameroon and Mali have no trunk prefix.
        Valid("0991234567", "CD", "+243991234567"),
        Valid("06 123 4567", "CG", "+242061234567"),
        Valid("6 71 23 45 67", "CM", "+237671234567"),
        Valid("70 12 34 56", "ML", "+22370123456"),
        // Middle East
        Valid("0712 345 678", "YE", "+967712345678"),
        Valid("0944 567 890", "SY", "+963944567890"),
        Valid("٠٧٧٠١٢٣٤٥٦٧", "IQ", "+9647701234567"),
        Valid("0532 123 45 67", "TR", "+905321234567"),
        // Ukraine, Haiti, Colombia
        Valid("050 123 4567", "UA", "+380501234567"),
        Valid("3412-3456", "HT", "+50934123456"),
        Valid("321 1234567", "CO", "+573211234567"),
        // Philippines, Indonesia
        Valid("0917 123 4567", "PH", "+639171234567"),
        Valid("0812-3456-7890", "ID", "+6281234567890"),
        // United States: with and without the national 1.
        Valid("(415) 555-2671", "US", "+14155552671"),
        Valid("1-415-555-2671", "us", "+14155552671"),
        Valid("+1 415.555.2671", nil, "+14155552671"),
        // United Kingdom, including the "(0)" written after the code.
        Valid("020 7946 0958", "GB", "+442079460958"),
        Valid("07700 900123", "gb", "+447700900123"),
        Valid("+44 (0)20 7946 0958", nil, "+442079460958"),
        // Germany, France
        Valid("0151 23456789", "DE", "+4915123456789"),
        Valid("06 12 34 56 78", "FR", "+33612345678"),
        // A calling code outside the table (Laos) is still accepted, whatever the default country.
        Valid("+856 20 5512 3456", nil, "+8562055123456"),
        Valid("00856 20 5512 3456", "XX", "+8562055123456"),
    ]

    @Test("normalises national and international input to E.164", arguments: valid)
    func parsesValid(example: Valid) throws {
        let number = try PhoneNumber.parse(example.text, defaultCountry: example.country).get()
        #expect(number.e164 == example.e164)
        #expect(number.description == example.e164)
    }

    /// What was typed, the default country, and why it must be refused.
    struct Invalid: Sendable, CustomTestStringConvertible {
        let text: String
        let country: String?
        let problem: PhoneNumber.Problem

        init(_ text: String, _ country: String?, _ problem: PhoneNumber.Problem) {
            self.text = text
            self.country = country
            self.problem = problem
        }

        var testDescription: String { "\"\(text)\" in \(country ?? "no country") → \(problem)" }
    }

    static let invalid: [Invalid] = [
        Invalid("", "NP", .empty),
        Invalid("  ", "NP", .empty),
        Invalid("+", nil, .empty),
        Invalid("98412abc67", "NP", .invalidCharacters),
        Invalid("984#1234567", "NP", .invalidCharacters),
        Invalid("+977 +9841234567", nil, .invalidCharacters),
        Invalid("9841234567+", "NP", .invalidCharacters),
        Invalid("call 9841234567", "NP", .invalidCharacters),
        Invalid("98412", "NP", .wrongLength(country: "NP")),
        Invalid("98412345678901", "NP", .wrongLength(country: "NP")),
        Invalid("0712 345", "KE", .wrongLength(country: "KE")),
        Invalid("0712 345 6789", "KE", .wrongLength(country: "KE")),
        Invalid("+254 7123", nil, .wrongLength(country: "KE")),
        Invalid("01712-34567", "BD", .wrongLength(country: "BD")),
        Invalid("415 555 267", "US", .wrongLength(country: "US")),
        Invalid("+856 1234", nil, .wrongLength(country: nil)),
        Invalid("+856 1234 5678 9012 34", nil, .wrongLength(country: nil)),
        Invalid("+0 123 456 789", nil, .invalidCallingCode),
        Invalid("000 123 456 789", nil, .invalidCallingCode),
        Invalid("9841234567", nil, .noCountry),
        Invalid("9841234567", "", .noCountry),
        Invalid("9841234567", "XX", .unknownCountry("XX")),
        Invalid("9841234567", "NPL", .unknownCountry("NPL")),
    ]

    @Test("refuses malformed input with a reason", arguments: invalid)
    func refusesInvalid(example: Invalid) {
        #expect(PhoneNumber.parse(example.text, defaultCountry: example.country) == .failure(example.problem))
        #expect(!example.problem.description.isEmpty)
    }

    @Test(
        "the same number written three ways is one value",
        arguments: [
            ("0712 345 678", "KE", "+254 712 345 678", "00254712345678"),
            ("9841234567", "NP", "+977-984-1234567", "00977 984 123 4567"),
            ("01712 345678", "BD", "+880 (1712) 345678", "00880.1712.345678"),
            ("(415) 555-2671", "US", "+1 415 555 2671", "001 415 555 2671"),
            ("020 7946 0958", "GB", "+44 20 7946 0958", "0044 (0)20 7946 0958"),
        ])
    func threeWays(national: String, country: String, plus: String, doubleZero: String) throws {
        let fromNational = try PhoneNumber.parse(national, defaultCountry: country).get()
        let fromPlus = try PhoneNumber.parse(plus, defaultCountry: nil).get()
        let fromDoubleZero = try PhoneNumber.parse(doubleZero, defaultCountry: nil).get()
        #expect(fromNational == fromPlus)
        #expect(fromPlus == fromDoubleZero)
        #expect(Set([fromNational, fromPlus, fromDoubleZero]).count == 1)
    }

    @Test(
        "knows the calling code of every field and HQ country",
        arguments: [
            ("NP", "977"), ("BD", "880"), ("IN", "91"), ("PK", "92"), ("AF", "93"), ("MM", "95"), ("LK", "94"),
            ("KE", "254"), ("UG", "256"), ("TZ", "255"), ("ET", "251"), ("SO", "252"), ("SS", "211"), ("SD", "249"),
            ("NG", "234"), ("NE", "227"), ("TD", "235"), ("ML", "223"), ("BF", "226"), ("CD", "243"), ("CG", "242"),
            ("CM", "237"), ("CF", "236"), ("MZ", "258"), ("MW", "265"), ("ZM", "260"), ("ZW", "263"), ("MG", "261"),
            ("RW", "250"), ("BI", "257"), ("YE", "967"), ("SY", "963"), ("LB", "961"), ("JO", "962"), ("IQ", "964"),
            ("TR", "90"), ("UA", "380"), ("HT", "509"), ("CO", "57"), ("VE", "58"), ("PH", "63"), ("ID", "62"),
            ("US", "1"), ("GB", "44"), ("DE", "49"), ("FR", "33"),
        ])
    func callingCodes(country: String, code: String) {
        #expect(PhoneNumber.callingCode(of: country) == code)
        #expect(PhoneNumber.callingCode(of: country.lowercased()) == code)
    }

    @Test("an unknown country has no calling code")
    func unknownCallingCode() {
        #expect(PhoneNumber.callingCode(of: "XX") == nil)
        #expect(PhoneNumber.callingCode(of: "") == nil)
    }

    @Test("a length problem names the digits expected")
    func lengthReason() {
        #expect(PhoneNumber.Problem.wrongLength(country: "KE").description.contains("9 digits"))
        #expect(PhoneNumber.Problem.wrongLength(country: "GB").description.contains("9 to 10 digits"))
        #expect(PhoneNumber.Problem.wrongLength(country: nil).description.contains("8 to 15 digits"))
        #expect(PhoneNumber.Problem.unknownCountry("XX").description.contains("XX"))
    }
}
