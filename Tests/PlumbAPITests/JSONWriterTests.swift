import Foundation
import PlumbAPI
import Testing

@Suite("JSON written directly")
struct JSONWriterTests {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    @Test("a metric-data answer is the same bytes JSONEncoder writes, for awkward strings and numbers")
    func sameBytes() throws {
        let values: [Double] = [
            0, -0.0, 1, -1, 3, 0.1, 1.0 / 3, 33.333, 1e-7, 1.5e300, -2.5e-300, 123_456_789_012, 9_007_199_254_740_993,
            Double.greatestFiniteMagnitude, Double.leastNonzeroMagnitude, 100, 1e16, 1e21,
        ]
        let response = MetricDataResponse(results: [
            .init(
                id: "a1", label: "quote \" backslash \\ slash / tab \t newline \n bell \u{7} é ☃ 🚀",
                timestamps: values.indices.map { TimeParsing.format(1_795_341_600 + Int64($0) * 60) }, values: values),
            .init(id: "empty", label: "", timestamps: [], values: []),
        ])
        let written = response.jsonBytes()
        let encoded = [UInt8](try Self.encoder.encode(response))
        #expect(
            String(decoding: written, as: UTF8.self) == String(decoding: encoded, as: UTF8.self))
        #expect(try JSONDecoder().decode(MetricDataResponse.self, from: Data(written)) == response)
    }

    struct Timed: MetricDataTimes {
        var id: String
        var label: String
        var timestamps: [Int64]
        var values: [Double]
    }

    @Test("an answer written from epoch times is the same bytes as the one with each time formatted")
    func fromEpochTimes() {
        let first: Int64 = 1_795_341_600
        let results = [
            Timed(
                id: "a", label: "A \"q\"", timestamps: (0..<50).map { first + $0 * 60 },
                values: (0..<50).map { Double($0) / 8 }),
            // Off the grid, before it and far past it: formatted one by one.
            Timed(
                id: "b", label: "", timestamps: [first - 60, first + 7, first + 120, first + 60 * 200_000],
                values: [1, 2, 3, 4]),
            Timed(id: "c", label: "empty", timestamps: [], values: []),
        ]
        let formatted = MetricDataResponse(
            results: results.map {
                .init(id: $0.id, label: $0.label, timestamps: $0.timestamps.map(TimeParsing.format), values: $0.values)
            })
        #expect(MetricDataResponse.jsonBytes(results, first: first, period: 60) == formatted.jsonBytes())
        #expect(MetricDataResponse.jsonBytes(results, first: first, period: 0) == formatted.jsonBytes())
    }

    @Test("numbers are written as description writes them: short decimals, random bits and the edges of the fast path")
    func numbersAsDescription() {
        func written(_ value: Double) -> String {
            var w = JSONWriter()
            w.number(value)
            return String(decoding: w.bytes, as: UTF8.self)
        }
        func described(_ value: Double) -> String {
            var text = value.description
            if text.hasSuffix(".0") { text.removeLast(2) }
            return text
        }
        var rng = SystemRandomNumberGenerator()
        var values: [Double] = [
            0.001, -0.001, 0.0009999999, 0.000999, 0.0015, 0.1 + 0.2, 2_147_483_647.5, 2_147_483_648.25,
            2_147_483_647.999999, 1_999_999_999.123456, 0.1234565, 99.9999995, 1.0000005, 4.35, 0.3, 1e-3 + 1e-9,
        ]
        for _ in 0..<300_000 {
            // Decimals of 1 to 7 places at every magnitude of the fast path and past it.
            let places = Int.random(in: 0...7, using: &rng)
            let mantissa =
                Int64.random(in: -(1 << 53)...(1 << 53), using: &rng) >> Int64.random(in: 0...50, using: &rng)
            values.append(Double(mantissa) / pow(10, Double(places)))
        }
        for _ in 0..<200_000 {
            let bits = UInt64.random(in: 0...UInt64.max, using: &rng)
            let value = Double(bitPattern: bits)
            if value.isFinite { values.append(value) }
            // And values near the fast path's range, at full precision.
            values.append(Double.random(in: -3e9...3e9, using: &rng))
        }
        var mismatches: [String] = []
        for value in values where written(value) != described(value) {
            mismatches.append("\(value.bitPattern): \(written(value)) vs \(described(value))")
            if mismatches.count > 5 { break }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    @Test("times format as RFC 3339 UTC across eras, leap days and the edges of a day")
    func times() {
        #expect(TimeParsing.format(0) == "1970-01-01T00:00:00Z")
        #expect(TimeParsing.format(-1) == "1969-12-31T23:59:59Z")
        #expect(TimeParsing.format(951_782_400) == "2000-02-29T00:00:00Z")
        #expect(TimeParsing.format(253_402_300_799) == "9999-12-31T23:59:59Z")
        #expect(TimeParsing.format(253_402_300_800) == "10000-01-01T00:00:00Z")
    }
}

@Suite("JSON parsed from bytes")
struct JSONParserTests {
    @Test("documents parse to what JSONDecoder reads, escapes and numbers included")
    func sameAsFoundation() throws {
        let documents = [
            #"{"a": [1, -2, 3.5, -0.25, 1e3, 2E-2, 0, 123456789012345678], "b": {"c": null, "d": true, "e": false}}"#,
            #"["\u00e9\ud83d\ude80\n\t\"\\\/", "plain é ☃", ""]"#,
            "  \n[ ]\t", "{}", "\"x\"", "-0", "17",
        ]
        for text in documents {
            let parsed = JSONValue.parseStrict(Array(text.utf8))
            let reference = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
            #expect(parsed == reference, "\(text)")
        }
    }

    @Test("what is not strict JSON is refused, deep nesting included")
    func refusals() {
        let bad = [
            "", " ", "[1,]", "{\"a\":1,}", "{a:1}", "[01]", "[1.]", "[.5]", "[1e]", "[+1]", "1e400", "[NaN]",
            "\"tab\there\"", "\"\\x\"", "\"\\ud800\"", "[1] [2]", "{\"a\" 1}", "tru", "nul", "[\"\\u12\"]",
            String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000),
        ]
        for text in bad { #expect(JSONValue.parseStrict(Array(text.utf8)) == nil, "\(text.prefix(40))") }
        #expect(JSONValue.parseStrict([0x22, 0xFF, 0x22]) == nil, "invalid UTF-8")
    }
}
