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
