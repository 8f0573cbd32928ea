/// A phone number in E.164 form (`+` then 8–15 digits, no leading zero after `+`).
///
/// Built only by ``parse(_:defaultCountry:)``, which reads what a field worker typed: an international
/// number (`+<cc>…` or `00<cc>…`) or a national one read in a default country.
package struct PhoneNumber: Hashable, Sendable, CustomStringConvertible {
    /// The number in E.164 form, for example `+9779841234567`.
    package let e164: String

    /// The E.164 form.
    package var description: String { e164 }

    private init(e164: String) {
        self.e164 = e164
    }

    /// Why a number was refused, in words for an API error (`FieldViolation.reason`).
    package enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        /// The text holds no digits at all.
        case empty
        /// The text holds something other than digits, one leading `+`, spaces, dashes, dots and parentheses.
        case invalidCharacters
        /// The default country (carried as given) is not an ISO 3166-1 alpha-2 code in the table.
        case unknownCountry(String)
        /// A national number was given without a default country to read it in.
        case noCountry
        /// Too few or too many digits for the country (ISO code), or for E.164 when the country is not known.
        case wrongLength(country: String?)
        /// An international number whose country calling code starts with `0`.
        case invalidCallingCode

        /// The reason in words, phrased to follow a field name ("phone must …").
        package var description: String {
            switch self {
            case .empty:
                return "must contain a phone number"
            case .invalidCharacters:
                return "may contain only digits, a leading +, spaces, dashes, dots and parentheses"
            case .unknownCountry(let country):
                return "cannot be read in \"\(country)\", which is not a supported ISO 3166-1 alpha-2 country code"
            case .noCountry:
                return "must start with + and the country calling code when no default country is given"
            case .wrongLength(let country):
                guard let country, let rule = PhoneNumber.rules[country.uppercased()] else {
                    return "must have 8 to 15 digits including the country calling code"
                }
                return "must have \(Self.digitCount(rule.lengths)) after the country calling code "
                    + "+\(rule.callingCode) (\(rule.country))"
            case .invalidCallingCode:
                return "must not have 0 as the first digit of the country calling code"
            }
        }

        private static func digitCount(_ lengths: ClosedRange<Int>) -> String {
            lengths.count == 1
                ? "\(lengths.lowerBound) digits" : "\(lengths.lowerBound) to \(lengths.upperBound) digits"
        }
    }

    /// Parses `text`: accepts `+<cc><national>`, `00<cc><national>`, or a national number (with or without the
    /// country's trunk prefix) interpreted in `defaultCountry` (ISO 3166-1 alpha-2, case-insensitive).
    ///
    /// Spaces (any Unicode whitespace), dashes, dots and parentheses are ignored; digits of any script
    /// (Devanagari, Bengali, Arabic-Indic, …) count as digits; any other character is `invalidCharacters`.
    /// `defaultCountry` is used only for national numbers, so an international number is accepted even when
    /// it is `nil` or unknown. An international number whose calling code is not in the table is accepted when
    /// it has 8–15 digits in all.
    package static func parse(_ text: String, defaultCountry: String?) -> Result<PhoneNumber, Problem> {
        var digits = ""
        var sawPlus = false
        for character in text {
            if let digit = asciiDigit(character) {
                digits.append(digit)
            } else if (character == "+" || character == "\u{FF0B}") && !sawPlus && digits.isEmpty {
                sawPlus = true
            } else if !isIgnorable(character) {
                return .failure(.invalidCharacters)
            }
        }
        guard !digits.isEmpty else { return .failure(.empty) }
        if sawPlus { return international(digits) }
        if digits.hasPrefix("00") { return international(String(digits.dropFirst(2))) }
        return national(digits, in: defaultCountry)
    }

    /// The calling code of an ISO 3166-1 alpha-2 country, if known (for example `"977"` for `"NP"`).
    package static func callingCode(of country: String) -> String? {
        rules[country.uppercased()]?.callingCode
    }

    // MARK: - Parsing

    /// `digits` follow the `+` or `00`: the calling code, then the national number.
    private static func international(_ digits: String) -> Result<PhoneNumber, Problem> {
        guard let first = digits.first else { return .failure(.wrongLength(country: nil)) }
        guard first != "0" else { return .failure(.invalidCallingCode) }
        // ITU calling codes are prefix-free, so the longest matching prefix is the only one.
        for codeLength in stride(from: 3, through: 1, by: -1) where digits.count > codeLength {
            let code = String(digits.prefix(codeLength))
            guard let rule = rulesByCallingCode[code] else { continue }
            var national = String(digits.dropFirst(codeLength))
            // "+44 (0)20 …", "+254 0712 …": a trunk prefix after the code is dropped when that fixes the length.
            if let trunk = rule.trunkPrefix, national.hasPrefix(trunk), !rule.lengths.contains(national.count),
                rule.lengths.contains(national.count - trunk.count)
            {
                national.removeFirst(trunk.count)
            }
            return make(rule, national: national)
        }
        guard e164DigitCount.contains(digits.count) else { return .failure(.wrongLength(country: nil)) }
        return .success(PhoneNumber(e164: "+" + digits))
    }

    private static func national(_ digits: String, in defaultCountry: String?) -> Result<PhoneNumber, Problem> {
        guard let defaultCountry, !defaultCountry.allSatisfy(\.isWhitespace) else { return .failure(.noCountry) }
        guard let rule = rules[defaultCountry.filter({ !$0.isWhitespace }).uppercased()] else {
            return .failure(.unknownCountry(defaultCountry))
        }
        var national = digits
        if let trunk = rule.trunkPrefix, national.hasPrefix(trunk) {
            national.removeFirst(trunk.count)
        } else if national.hasPrefix(rule.callingCode), !rule.lengths.contains(national.count),
            rule.lengths.contains(national.count - rule.callingCode.count)
        {
            // The calling code typed without `+` or `00` ("254712345678" in Kenya).
            national.removeFirst(rule.callingCode.count)
        }
        return make(rule, national: national)
    }

    private static func make(_ rule: CountryRule, national: String) -> Result<PhoneNumber, Problem> {
        let digits = rule.callingCode + national
        guard rule.lengths.contains(national.count), e164DigitCount.contains(digits.count) else {
            return .failure(.wrongLength(country: rule.country))
        }
        return .success(PhoneNumber(e164: "+" + digits))
    }

    /// The ASCII digit for a decimal digit of any script, `nil` for anything else.
    private static func asciiDigit(_ character: Character) -> Character? {
        guard character.unicodeScalars.count == 1,
            let scalar = character.unicodeScalars.first,
            scalar.properties.numericType == .decimal,
            let value = character.wholeNumberValue,
            let digit = "0123456789".dropFirst(value).first
        else { return nil }
        return digit
    }

    /// Spaces, dashes (ASCII and Unicode), dots and parentheses.
    private static func isIgnorable(_ character: Character) -> Bool {
        character.isWhitespace || ignorable.contains(character)
    }

    private static let ignorable: Set<Character> = [
        "-", ".", "(", ")", "\u{2010}", "\u{2011}", "\u{2012}", "\u{2013}", "\u{2014}", "\u{2015}", "\u{2212}",
    ]

    private static let e164DigitCount = 8...15

    // MARK: - Country table

    /// How one country's numbers are dialled.
    struct CountryRule: Sendable {
        /// ISO 3166-1 alpha-2 code.
        let country: String
        /// The ITU-T E.164 country calling code, without `+`.
        let callingCode: String
        /// What is dialled before a national number inside the country (`0` in most, `1` in NANP, `8` in RU/KZ).
        let trunkPrefix: String?
        /// Digits of the national significant number, i.e. after the calling code and without a trunk prefix.
        let lengths: ClosedRange<Int>
    }

    private static func rule(
        _ country: String, _ callingCode: String, trunk: String?, _ lengths: ClosedRange<Int>
    ) -> CountryRule {
        CountryRule(country: country, callingCode: callingCode, trunkPrefix: trunk, lengths: lengths)
    }

    /// Lengths cover mobile and geographic fixed-line numbers (after libphonenumber's metadata), not toll-free,
    /// premium or short codes. Where countries share a calling code the first listed is the one reported.
    private static let table: [CountryRule] = [
        // South Asia
        rule("NP", "977", trunk: "0", 8...10),  // fixed 8 (0 dialled only before landlines), mobile 10 (9…)
        rule("BD", "880", trunk: "0", 10...10),  // mobile 1XXXXXXXXX; fixed lines (6–9 digits) deliberately refused
        rule("IN", "91", trunk: "0", 10...10),
        rule("PK", "92", trunk: "0", 9...10),  // fixed 9–10, mobile 3XXXXXXXXX
        rule("AF", "93", trunk: "0", 9...9),
        rule("LK", "94", trunk: "0", 9...9),
        rule("MM", "95", trunk: "0", 6...10),  // fixed 6–9, mobile 7–10
        rule("IR", "98", trunk: "0", 10...10),
        // East Africa and the Horn
        rule("KE", "254", trunk: "0", 9...9),
        rule("UG", "256", trunk: "0", 9...9),
        rule("TZ", "255", trunk: "0", 9...9),
        rule("ET", "251", trunk: "0", 9...9),
        rule("SO", "252", trunk: "0", 6...9),  // fixed 6–7, mobile 8–9
        rule("SS", "211", trunk: "0", 9...9),
        rule("SD", "249", trunk: "0", 9...9),
        rule("ER", "291", trunk: "0", 7...7),
        rule("DJ", "253", trunk: nil, 8...8),
        rule("RW", "250", trunk: "0", 9...9),
        rule("BI", "257", trunk: nil, 8...8),
        // West and Central Africa
        rule("NG", "234", trunk: "0", 8...10),
        rule("NE", "227", trunk: nil, 8...8),
        rule("TD", "235", trunk: nil, 8...8),
        rule("ML", "223", trunk: nil, 8...8),
        rule("BF", "226", trunk: nil, 8...8),
        rule("MR", "222", trunk: nil, 8...8),
        rule("SN", "221", trunk: nil, 9...9),
        rule("GN", "224", trunk: nil, 8...9),
        rule("SL", "232", trunk: "0", 8...8),
        rule("LR", "231", trunk: "0", 7...9),
        rule("CI", "225", trunk: nil, 10...10),  // 10 digits since 2021; the 0 of "07…" is part of the number
        rule("GH", "233", trunk: "0", 9...9),
        rule("CM", "237", trunk: nil, 9...9),
        rule("CF", "236", trunk: nil, 8...8),
        rule("CD", "243", trunk: "0", 7...9),  // fixed 7, mobile 9
        rule("CG", "242", trunk: nil, 9...9),  // no trunk prefix: mobiles are 0X XXX XXXX after +242
        rule("AO", "244", trunk: nil, 9...9),
        // Southern Africa
        rule("MZ", "258", trunk: nil, 8...9),  // fixed 8, mobile 9
        rule("MW", "265", trunk: "0", 7...9),
        rule("ZM", "260", trunk: "0", 9...9),
        rule("ZW", "263", trunk: "0", 5...10),
        rule("MG", "261", trunk: "0", 9...9),
        rule("ZA", "27", trunk: "0", 9...9),
        // North Africa and the Middle East
        rule("EG", "20", trunk: "0", 8...10),
        rule("LY", "218", trunk: "0", 9...9),
        rule("TN", "216", trunk: nil, 8...8),
        rule("DZ", "213", trunk: "0", 8...9),
        rule("MA", "212", trunk: "0", 9...9),
        rule("YE", "967", trunk: "0", 7...9),
        rule("SY", "963", trunk: "0", 8...9),
        rule("LB", "961", trunk: "0", 7...8),
        rule("JO", "962", trunk: "0", 8...9),
        rule("IQ", "964", trunk: "0", 8...10),
        rule("PS", "970", trunk: "0", 8...9),
        rule("SA", "966", trunk: "0", 9...9),
        rule("AE", "971", trunk: "0", 8...9),
        rule("TR", "90", trunk: "0", 10...10),
        // Europe
        rule("UA", "380", trunk: "0", 9...9),
        rule("RU", "7", trunk: "8", 10...10),
        rule("KZ", "7", trunk: "8", 10...10),
        rule("PL", "48", trunk: nil, 9...9),
        rule("RO", "40", trunk: "0", 9...9),
        rule("GB", "44", trunk: "0", 9...10),
        rule("DE", "49", trunk: "0", 6...13),  // German numbers vary in length; permissive
        rule("FR", "33", trunk: "0", 9...9),
        rule("NL", "31", trunk: "0", 9...9),
        rule("BE", "32", trunk: "0", 8...9),
        rule("CH", "41", trunk: "0", 9...9),
        rule("IT", "39", trunk: nil, 6...11),  // fixed numbers keep their leading 0 after +39
        rule("ES", "34", trunk: nil, 9...9),
        rule("NO", "47", trunk: nil, 8...8),
        rule("DK", "45", trunk: nil, 8...8),
        // The Americas
        rule("US", "1", trunk: "1", 10...10),
        rule("CA", "1", trunk: "1", 10...10),
        rule("MX", "52", trunk: nil, 10...10),
        rule("GT", "502", trunk: nil, 8...8),
        rule("HN", "504", trunk: nil, 8...8),
        rule("HT", "509", trunk: nil, 8...8),
        rule("CO", "57", trunk: "0", 10...10),
        rule("VE", "58", trunk: "0", 10...10),
        rule("EC", "593", trunk: "0", 8...9),
        rule("PE", "51", trunk: "0", 8...9),
        rule("BR", "55", trunk: "0", 10...11),
        // South-East Asia and the Pacific
        rule("PH", "63", trunk: "0", 8...10),
        rule("ID", "62", trunk: "0", 7...12),
        rule("MY", "60", trunk: "0", 8...10),
        rule("TH", "66", trunk: "0", 8...9),
        rule("VN", "84", trunk: "0", 9...10),
        rule("AU", "61", trunk: "0", 9...9),
    ]

    /// The table by ISO code.
    static let rules: [String: CountryRule] = Dictionary(
        table.map { ($0.country, $0) }, uniquingKeysWith: { first, _ in first })

    /// The table by calling code; for a shared code, the first country listed.
    private static let rulesByCallingCode: [String: CountryRule] = Dictionary(
        table.map { ($0.callingCode, $0) }, uniquingKeysWith: { first, _ in first })
}
