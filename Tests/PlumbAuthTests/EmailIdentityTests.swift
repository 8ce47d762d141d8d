import Foundation
import PlumbAuth
import PlumbTesting
import Testing

/// Addresses as identities: normalisation (NFKC, lowercase, IDNA) and the refusals (controls, invisible characters,
/// mixed scripts, whole-script look-alikes), with Python's punycode codec as the reference for the `xn--` form.
@Suite("Email identity")
struct EmailIdentityTests {
    static func normalised(_ text: String) -> String? { try? EmailIdentity.normalise(text).get() }

    static func refusal(_ text: String) -> String {
        switch EmailIdentity.normalise(text) {
        case .success(let address): "accepted as \(address)"
        case .failure(let refusal): refusal.message
        }
    }

    @Test("Punycode agrees with Python's codec both ways")
    func punycodeMatchesPython() async throws {
        let labels = ["bücher", "münchen", "пример", "例え", "mañana", "ελληνικά", "한국어", "日本語テキスト", "ab-ç-d", "ü"]
        let script = "import sys\nfor w in sys.argv[1:]: print(w.encode('punycode').decode('ascii'))"
        let python = try await CLI.runProgram("/usr/bin/env", ["python3", "-c", script] + labels)
        let expected = python.output.split(separator: "\n").map(String.init)
        try #require(expected.count == labels.count, "\(python.output)")
        for (label, reference) in zip(labels, expected) {
            #expect(Punycode.encode(label) == reference, "\(label)")
            #expect(Punycode.decode(reference) == label, "\(reference)")
        }
        #expect(Punycode.decode("99999999999999999999") == nil, "overflow is refused, not trapped")
        #expect(Punycode.decode("ab!") == nil)
    }

    @Test("one mailbox, one identity: case, full-width forms and Unicode or xn-- domains normalise alike")
    func normalisation() {
        #expect(Self.normalised("  Ana@Example.COM ") == "ana@example.com")
        #expect(Self.normalised("ａｎａ@ｅｘａｍｐｌｅ．ｃｏｍ") == "ana@example.com")
        #expect(Self.normalised("bo@Bücher.de") == "bo@xn--bcher-kva.de")
        #expect(Self.normalised("bo@xn--bcher-kva.de") == "bo@xn--bcher-kva.de")
        #expect(
            Self.normalised("bo@bu\u{0308}cher.de") == "bo@xn--bcher-kva.de",
            "a combining diaeresis composes under NFKC")
        #expect(Self.normalised("ivan@пример.рф") == "ivan@xn--e1afmkfd.xn--p1ai")
        #expect(Self.normalised("o'brien+tag@mail.example.ie") == "o'brien+tag@mail.example.ie")
    }

    @Test("controls, invisible characters, mixed scripts and look-alike labels are refused, with the reason")
    func refusals() {
        let cases: [(String, String)] = [
            ("ana@example.com\u{0}", "U+0000"),
            ("ana@example.com\r\nRCPT TO:<victim@evil.test>", "U+000D"),
            ("ana\n@example.com", "U+000A"),
            ("an\u{200B}a@example.com", "U+200B"),
            ("ana@exam\u{200D}ple.com", "U+200D"),
            ("\u{202E}moc.elpmaxe@ana", "U+202E"),
            ("an a@example.com", "space"),
            ("аna@example.com", "Cyrillic 'а' (U+0430), which looks like Latin 'a' among Latin letters"),
            ("ana@exаmple.com", "mixes scripts in the domain label"),
            ("ana@ехаmple.com", "Cyrillic"),
            ("ana@аррӏе.com", "look like Latin 'apple'"),
            ("ana@xn--80ak6aa92e.com", "look like Latin 'apple'"),
            ("ana@paypal.cοm", "Greek"),
            ("иван@example.com", "only ASCII letters"),
            ("ana@@example.com", "more than one '@'"),
            ("ana.example.com", "no '@'"),
            ("ana@example", "without a dot"),
            ("a..na@example.com", "two dots"),
            ("an<a@example.com", "'<'"),
            ("ana@exa_mple.com", "'_'"),
            ("ana@-example.com", "'-'"),
            ("ana@xn--zz-.com", "not a valid IDNA label"),
        ]
        for (text, reason) in cases {
            let message = Self.refusal(text)
            #expect(message.contains(reason), "\(text.debugDescription): \(message)")
        }
    }
}
