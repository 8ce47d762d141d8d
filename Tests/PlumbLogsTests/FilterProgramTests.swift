import Foundation
import PlumbTesting
import Testing

@testable import PlumbLogs

/// The byte-level programs decide every event exactly as the plain definition (`FilterOracle`) does, on events and
/// patterns generated at random from pieces chosen to hit the edges: escapes, surrogates, duplicate keys, deep
/// nesting, numbers in every JSON form, text outside ASCII (canonically equivalent spellings), quoted and bracketed
/// fields with text glued on, unterminated quotes, `...` anywhere.
@Suite struct FilterProgramTests {
    static let jsonKeys = [
        "status", "user", "a", "b", "st\\u0061tus", "caf\\u00e9", "café", "cafe\u{301}", "K", "\u{212A}",
    ]
    static let jsonScalars = [
        "500", "5e2", "500.0", "-0", "0", "1e400", "12.5", "-3", "1234567890123456789", "01", "1.", ".5", "true",
        "false", "null", "\"ann\"", "\"an*\"", "\"caf\\u00e9\"", "\"café\"", "\"cafe\u{301}\"", "\"\\ud83d\\ude00\"",
        "\"\\ud800\"", "\"\\udc00x\"", "\"tab\\tx\"", "\"bad\\x\"", "\"\"", "\"500\"", "\"K\"", "\"\u{212A}\"",
    ]

    static func jsonValue(_ rng: inout SeededGenerator, depth: Int) -> String {
        let roll = Int.random(in: 0..<10, using: &rng)
        if depth < 3, roll == 0 {
            let n = Int.random(in: 0..<4, using: &rng)
            return "[" + (0..<n).map { _ in jsonValue(&rng, depth: depth + 1) }.joined(separator: ",") + "]"
        }
        if depth < 3, roll == 1 { return jsonObject(&rng, depth: depth + 1) }
        return jsonScalars.randomElement(using: &rng)!
    }

    static func jsonObject(_ rng: inout SeededGenerator, depth: Int) -> String {
        let n = Int.random(in: 0..<5, using: &rng)
        let members = (0..<n).map { _ in
            "\"\(jsonKeys.randomElement(using: &rng)!)\"" + [":", " : "].randomElement(using: &rng)!
                + jsonValue(&rng, depth: depth)
        }
        return "{" + members.joined(separator: [",", ", "].randomElement(using: &rng)!) + "}"
    }

    static func jsonEvent(_ rng: inout SeededGenerator) -> String {
        var text = jsonObject(&rng, depth: 0)
        switch Int.random(in: 0..<12, using: &rng) {
        case 0: text = " " + text
        case 1: text = "\n" + text
        case 2: text += " \r\n"
        case 3: text += "x"
        case 4: text = String(text.dropLast())
        case 5: text = "[" + text + "]"
        case 6: text = String(repeating: "{\"a\":", count: 520) + "1" + String(repeating: "}", count: 520)
        default: break
        }
        return text
    }

    static func jsonPattern(_ rng: inout SeededGenerator) -> String {
        func selector() -> String {
            var s = "$"
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                if Bool.random(using: &rng) || s == "$" {
                    s += "." + ["status", "user", "a", "b", "café", "K", "\u{212A}"].randomElement(using: &rng)!
                } else {
                    s += "[\(Int.random(in: 0..<3, using: &rng))]"
                }
            }
            return s
        }
        func term() -> String {
            let path = selector()
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: return "\(path) IS NULL"
            case 1: return "\(path) IS \(Bool.random(using: &rng) ? "TRUE" : "FALSE")"
            case 2: return "\(path) NOT EXISTS"
            case 3:
                let op = ["=", "!=", "<", "<=", ">", ">="].randomElement(using: &rng)!
                return "\(path) \(op) \(["500", "12.5", "-3", "0", "1e3"].randomElement(using: &rng)!)"
            default:
                let op = ["=", "!="].randomElement(using: &rng)!
                let literal = [
                    "\"ann\"", "\"an*\"", "\"*n\"", "\"*\"", "\"café\"", "\"caf*\"", "\"500\"", "\"5*\"",
                    "true", "\"K\"", "\"\"", "\"*a*n*\"",
                ].randomElement(using: &rng)!
                return "\(path) \(op) \(literal)"
            }
        }
        var pattern = term()
        for _ in 0..<Int.random(in: 0..<3, using: &rng) {
            pattern = "(\(pattern)) \(Bool.random(using: &rng) ? "&&" : "||") \(term())"
        }
        return "{ \(pattern) }"
    }

    static let fieldPieces = [
        "10.0.0.1", "-", "ann", "anne", "[22/Nov/2026:10:00:00 +0000]", "\"GET /a HTTP/1.1\"", "500", "503", "200",
        "12", "5e2", "-3.5", "0x10", "inf", "\"an\"n", "[x]y", "\"unterminated", "[open", "café", "cafe\u{301}",
        "\u{212A}", "K", "+5", ".5", "5.", "x\r\ny", "x\r", "\r\nz",
    ]

    static func delimitedEvent(_ rng: inout SeededGenerator) -> String {
        (0..<Int.random(in: 0..<9, using: &rng)).map { _ in fieldPieces.randomElement(using: &rng)! }
            .joined(separator: [" ", "  ", "\t"].randomElement(using: &rng)!)
    }

    static func delimitedPattern(_ rng: inout SeededGenerator) -> String {
        let names = ["ip", "dash", "user", "ts", "request", "status", "bytes"]
        var fields: [String] = []
        var used: [String] = []
        for name in names.prefix(Int.random(in: 0...7, using: &rng)) {
            if Int.random(in: 0..<5, using: &rng) == 0 { fields.append("...") }
            used.append(name)
            switch Int.random(in: 0..<5, using: &rng) {
            case 0:
                let op = ["=", "!="].randomElement(using: &rng)!
                fields.append(
                    "\(name) \(op) \(["ann*", "5*", "\"GET*\"", "*0", "café", "K", "[x]y", "\"GET /a HTTP/1.1\"", "\"x\r*\"", "\"*\ny\""].randomElement(using: &rng)!)"
                )
            case 1:
                let op = ["=", "!=", "<", "<=", ">", ">="].randomElement(using: &rng)!
                fields.append("\(name) \(op) \(["500", "12", "-3.5", "16", "0.5"].randomElement(using: &rng)!)")
            case 2 where used.count > 1:
                fields.append("\(name) >= 400 && \(used[0]) != x || status < 300")
            default:
                fields.append(name)
            }
        }
        if fields.isEmpty || Int.random(in: 0..<4, using: &rng) == 0 { fields.append("...") }
        return "[" + fields.joined(separator: ", ") + "]"
    }

    @Test func jsonProgramsAgreeWithTheParsedDefinition() throws {
        var rng = SeededGenerator(seed: 22)
        var matched = 0
        for _ in 0..<400 {
            let text = Self.jsonPattern(&rng)
            let pattern = try FilterPattern(text)
            for _ in 0..<50 {
                let event = Self.jsonEvent(&rng)
                let expected = FilterOracle.match(pattern, event) != nil
                #expect(pattern.matches(event) == expected, "\(text) on \(event)")
                if expected { matched += 1 }
            }
        }
        // The generator must produce matches, or the comparison above proves little.
        #expect(matched > 500)
    }

    @Test func delimitedProgramsAgreeWithTheSplitDefinition() throws {
        var rng = SeededGenerator(seed: 7)
        var matched = 0
        for _ in 0..<400 {
            let text = Self.delimitedPattern(&rng)
            let pattern = try FilterPattern(text)
            for _ in 0..<50 {
                let event = Self.delimitedEvent(&rng)
                let expected = FilterOracle.match(pattern, event)
                #expect(pattern.match(event) == expected, "\(text) on \(event)")
                if expected != nil { matched += 1 }
            }
        }
        #expect(matched > 500)
    }

    @Test func termProgramsAgreeWithSubstringSearch() throws {
        var rng = SeededGenerator(seed: 3)
        let words = ["ERROR", "WARN", "café", "cafe\u{301}", "a", "aa", " 500 ", "x y"]
        for _ in 0..<300 {
            let terms = (0..<Int.random(in: 1...3, using: &rng)).map { _ in
                ["", "?", "-"].randomElement(using: &rng)! + "\"" + words.randomElement(using: &rng)! + "\""
            }
            let pattern = try FilterPattern(terms.joined(separator: " "))
            for _ in 0..<20 {
                let event = (0..<Int.random(in: 0..<5, using: &rng)).map { _ in words.randomElement(using: &rng)! }
                    .joined(separator: " ")
                #expect(
                    pattern.matches(event) == (FilterOracle.match(pattern, event) != nil), "\(pattern.text) on \(event)"
                )
            }
        }
    }

    @Test func aPatternWithTooManySelectorsIsRefusedWithAReason() {
        let many = (0..<65).map { "$.k\($0) = 1" }.joined(separator: " || ")
        #expect(throws: FilterPatternError.self) { try FilterPattern("{ \(many) }") }
        #expect((try? FilterPattern("{ " + (0..<64).map { "$.k\($0) = 1" }.joined(separator: " || ") + " }")) != nil)
    }
}
