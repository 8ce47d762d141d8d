/// The writing system of a character, as far as spotting look-alikes needs: the scripts whose letters pass for
/// Latin ones (Cyrillic, Greek, Cherokee, Armenian) by name, the CJK ones that legitimately mix, and any other
/// letter by its 128-character block. Swift's standard library has no Script property, hence the ranges (from the
/// Unicode block chart).
enum UnicodeScript: Hashable, CustomStringConvertible {
    /// Digits, hyphens, punctuation: belong to every script.
    case common
    /// Combining marks: take the script of the letter before them.
    case inherited
    case latin, greek, cyrillic, armenian, cherokee, han, hiragana, katakana, hangul, bopomofo
    case other(block: UInt32)

    init(_ scalar: Unicode.Scalar) {
        let v = scalar.value
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark:
            self = .inherited
            return
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .letterNumber:
            break
        default:
            self = .common
            return
        }
        switch v {
        case 0x41...0x5A, 0x61...0x7A, 0xAA, 0xBA, 0xC0...0x24F, 0x250...0x2AF, 0x1D00...0x1D7F, 0x1E00...0x1EFF,
            0x2C60...0x2C7F, 0xA720...0xA7FF, 0xAB30...0xAB6F, 0xFF21...0xFF3A, 0xFF41...0xFF5A:
            self = .latin
        case 0x370...0x3FF, 0x1F00...0x1FFF: self = .greek
        case 0x400...0x52F, 0x1C80...0x1C8F, 0x2DE0...0x2DFF, 0xA640...0xA69F: self = .cyrillic
        case 0x530...0x58F, 0xFB13...0xFB17: self = .armenian
        case 0x13A0...0x13FF, 0xAB70...0xABBF: self = .cherokee
        case 0x2E80...0x2FDF, 0x3005, 0x3007, 0x3021...0x3029, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF,
            0x20000...0x3FFFF:
            self = .han
        case 0x3040...0x309F: self = .hiragana
        case 0x30A0...0x30FF, 0x31F0...0x31FF, 0xFF66...0xFF9F: self = .katakana
        case 0x1100...0x11FF, 0x3130...0x318F, 0xA960...0xA97F, 0xAC00...0xD7FF: self = .hangul
        case 0x3100...0x312F, 0x31A0...0x31BF: self = .bopomofo
        default: self = .other(block: v >> 7)
        }
    }

    var description: String {
        switch self {
        case .common: "common"
        case .inherited: "inherited"
        case .latin: "Latin"
        case .greek: "Greek"
        case .cyrillic: "Cyrillic"
        case .armenian: "Armenian"
        case .cherokee: "Cherokee"
        case .han: "Han"
        case .hiragana: "Hiragana"
        case .katakana: "Katakana"
        case .hangul: "Hangul"
        case .bopomofo: "Bopomofo"
        case .other(let block): "U+\(String(block << 7, radix: 16, uppercase: true)) block"
        }
    }

    /// The scripts of the letters of `text` (common and inherited characters left out).
    static func scripts(of text: some StringProtocol) -> Set<UnicodeScript> {
        Set(text.unicodeScalars.map(UnicodeScript.init).filter { $0 != .common && $0 != .inherited })
    }

    /// Whether letters of these scripts may share one label: one script, or the mixes a language writes in (UTS #39's
    /// "highly restrictive" level: Japanese, Chinese and Korean with Latin).
    static func mayMix(_ scripts: Set<UnicodeScript>) -> Bool {
        scripts.count <= 1
            || scripts.isSubset(of: [.latin, .han, .hiragana, .katakana])
            || scripts.isSubset(of: [.latin, .han, .bopomofo])
            || scripts.isSubset(of: [.latin, .han, .hangul])
    }

    /// Lowercase letters of other scripts that pass for a Latin letter in common fonts (the sets browsers use to show
    /// a domain as `xn--…` instead of Unicode), with the Latin letter they imitate.
    static let latinLookalikes: [Unicode.Scalar: Character] = [
        // Cyrillic
        "\u{0430}": "a", "\u{0441}": "c", "\u{0501}": "d", "\u{0435}": "e", "\u{04BD}": "e", "\u{0433}": "r",
        "\u{04BB}": "h",
        "\u{0456}": "i", "\u{0458}": "j", "\u{043A}": "k", "\u{04CF}": "l", "\u{043F}": "n", "\u{043E}": "o",
        "\u{0440}": "p",
        "\u{051B}": "q", "\u{0455}": "s", "\u{0475}": "v", "\u{051D}": "w", "\u{0461}": "w", "\u{0445}": "x",
        "\u{0443}": "y",
        "\u{04AF}": "y",
        // Greek
        "\u{03B1}": "a", "\u{03B5}": "e", "\u{03B9}": "i", "\u{03BA}": "k", "\u{03BD}": "v", "\u{03BF}": "o",
        "\u{03C1}": "p",
        "\u{03C5}": "u", "\u{03C7}": "x", "\u{03B3}": "y",
        // Armenian
        "\u{0570}": "h", "\u{0578}": "n", "\u{057D}": "u", "\u{0585}": "o", "\u{0581}": "g", "\u{0566}": "q",
    ]
}
