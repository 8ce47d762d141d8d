import Foundation

/// Named entities of a text, by rules over sentences and tokens (no model): runs of capitalised tokens, with the
/// sentence-initial common words, titles and stop words dropped, "of"/"de"/"van"… joining a name's parts, and
/// mentions counted.
///
/// What counts as an entity follows CoNLL-2003's four kinds: people, organisations, places, and other proper names
/// (products, software, languages, nationalities, events, named standards). Dates (months, weekdays) do not.
public struct EntityExtractor: Sendable {
    /// Lowercase words of the system dictionary (Debian's wamerican). A capitalised word at the start of a sentence is
    /// taken for a common word when the text also uses it in lowercase, or when the dictionary has it in lowercase
    /// and the text never capitalises it elsewhere.
    public let commonWords: Set<String>

    public init(commonWords: Set<String>) {
        self.commonWords = commonWords
    }

    /// The lowercase entries of `/usr/share/dict/words` (empty when it is missing: then only the built-in lists
    /// decide).
    public static func systemDictionary(path: String = "/usr/share/dict/words") -> Set<String> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return Set(text.split(separator: "\n").filter { $0.first?.isLowercase ?? false }.map { String($0) })
    }

    public struct Entity: Sendable, Equatable, Codable {
        public var text: String
        public var mentions: Int
    }

    // MARK: - Sentences and tokens

    /// Abbreviations whose period does not end a sentence (lowercased, without the period).
    static let abbreviations: Set<String> = [
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "gen", "col", "lt", "sgt", "capt", "rev", "hon",
        "gov", "sen", "rep",
        "inc", "ltd", "co", "corp", "bros", "llc", "plc", "dept", "univ", "assn", "vs", "etc", "e.g", "i.e", "cf", "al",
        "approx", "ca",
        "no", "nos", "vol", "vols", "pp", "fig", "figs", "ed", "eds", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
        "sep", "sept",
        "oct", "nov", "dec", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "u.s", "u.k", "u.n", "a.m", "p.m", "ph.d",
        "b.a", "m.a",
    ]

    /// Titles that precede a name and are not part of it.
    static let titles: Set<String> = [
        "mr", "mrs", "ms", "miss", "dr", "prof", "professor", "sir", "dame", "lord", "lady", "king", "queen", "prince",
        "princess",
        "president", "senator", "governor", "mayor", "judge", "justice", "general", "colonel", "captain", "lieutenant",
        "sergeant",
        "father", "mother", "brother", "sister", "saint", "st", "rev", "reverend", "pope", "chancellor", "minister",
        "secretary",
        "uncle", "aunt", "madame", "monsieur", "herr", "frau", "mister", "doctor", "emperor", "duke", "duchess",
        "count", "countess",
        "chief", "sheriff", "officer", "inspector", "detective", "agent", "commander", "admiral", "major", "bishop",
        "cardinal",
    ]

    /// Words never an entity on their own, capitalised or not.
    static let stopWords: Set<String> = [
        "a", "an", "the", "this", "that", "these", "those", "and", "or", "but", "nor", "so", "yet", "for", "if", "then",
        "else",
        "when", "while", "where", "why", "how", "what", "which", "who", "whom", "whose", "it", "its", "he", "she",
        "they", "we", "you",
        "i", "me", "him", "her", "them", "us", "my", "your", "his", "our", "their", "there", "here", "in", "on", "at",
        "by", "with",
        "from", "to", "of", "as", "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "not", "no",
        "yes", "all",
        "any", "some", "each", "every", "both", "either", "neither", "one", "two", "three", "many", "most", "more",
        "much", "such",
        "also", "only", "just", "very", "can", "could", "will", "would", "shall", "should", "may", "might", "must",
        "let", "after",
        "before", "about", "above", "below", "into", "over", "under", "again", "once", "oh", "ok", "okay", "well",
        "now", "please",
        "i'm", "i'll", "i've", "i'd", "i’m", "i’ll", "i’ve", "i’d",
    ]

    /// Dates are not names.
    static let calendar: Set<String> = [
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
        "december",
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    ]

    /// Lowercase words that join the parts of one name: "Bank of England", "Ludwig van Beethoven".
    static let connectors: Set<String> = [
        "of", "de", "del", "della", "di", "da", "du", "la", "le", "van", "von", "der", "den", "y", "bin", "al",
    ]

    struct Token {
        var text: String
        /// Starts with an uppercase letter (or is an acronym such as "GNU" or "MP3").
        var capitalised: Bool
        var sentenceStart: Bool
        /// Punctuation or a quote: it ends a run of name tokens.
        var breaks: Bool
    }

    /// Splits a text into sentences: at `.`, `!`, `?` (and `…`) followed by space and an uppercase letter, a digit or
    /// an opening quote, unless the period ends a known abbreviation or a single initial ("J. R. R. Tolkien"); at
    /// blank lines always.
    public static func sentences(_ text: String) -> [String] {
        var out: [String] = []
        // Blank lines, and lines of only punctuation (a fortune file's "%", a "----" rule), end paragraphs.
        let lines = text.components(separatedBy: "\n").map { line in
            line.contains(where: { $0.isLetter || $0.isNumber }) ? line : ""
        }
        for paragraph in lines.joined(separator: "\n").components(separatedBy: "\n\n") {
            let chars = Array(paragraph.replacingOccurrences(of: "\n", with: " "))
            var start = 0
            var i = 0
            while i < chars.count {
                let c = chars[i]
                if c == "." || c == "!" || c == "?" || c == "…" {
                    var j = i + 1
                    // Closing quotes and brackets belong to the sentence that ends.
                    while j < chars.count, "\"'”’)]".contains(chars[j]) { j += 1 }
                    var k = j
                    while k < chars.count, chars[k] == " " { k += 1 }
                    let atEnd = k >= chars.count
                    let nextStarts =
                        !atEnd && k > j && (chars[k].isUppercase || chars[k].isNumber || "\"'“‘(".contains(chars[k]))
                    if atEnd || nextStarts {
                        var isBreak = true
                        if c == "." {
                            // The word before the period.
                            var w = i - 1
                            while w >= start, !chars[w].isWhitespace, !"\"'“‘(".contains(chars[w]) { w -= 1 }
                            let word = String(chars[(w + 1)..<i]).lowercased()
                            if abbreviations.contains(word) || (word.count == 1 && word.first!.isLetter) {
                                isBreak = atEnd
                            }
                        }
                        if isBreak {
                            let sentence = String(chars[start..<j]).trimmingCharacters(in: .whitespaces)
                            if !sentence.isEmpty { out.append(sentence) }
                            start = k
                            i = k
                            continue
                        }
                    }
                }
                i += 1
            }
            if start < chars.count {
                let sentence = String(chars[start...]).trimmingCharacters(in: .whitespaces)
                if !sentence.isEmpty { out.append(sentence) }
            }
        }
        return out
    }

    /// Tokens of one sentence: words (with inner apostrophes, hyphens and periods, as in "O'Brien", "Jean-Luc",
    /// "U.S."), numbers, and single punctuation marks.
    static func tokens(_ sentence: String) -> [Token] {
        var out: [Token] = []
        var word = ""
        let chars = Array(sentence)
        func flush() {
            guard !word.isEmpty else { return }
            // Trailing periods stay only on abbreviations and initials.
            var text = word
            if text.hasSuffix("."),
                !(abbreviations.contains(String(text.dropLast()).lowercased())
                    || (text.count == 2 && text.first!.isLetter))
            {
                text.removeLast()
            }
            // "Debian's" → "Debian".
            for suffix in ["'s", "’s"] where text.hasSuffix(suffix) && text.count > 2 { text.removeLast(2) }
            let first = text.first!
            let letters = text.filter(\.isLetter)
            let capitalised =
                first.isUppercase || (!letters.isEmpty && letters.allSatisfy(\.isUppercase) && first.isLetter)
            out.append(Token(text: text, capitalised: capitalised, sentenceStart: out.isEmpty, breaks: false))
            word = ""
        }
        for (i, c) in chars.enumerated() {
            let next: Character? = i + 1 < chars.count ? chars[i + 1] : nil
            if c.isLetter || c.isNumber {
                word.append(c)
            } else if !word.isEmpty, "'’-.".contains(c), let next, next.isLetter || next.isNumber {
                word.append(c)  // inside a word
            } else if c == ".", !word.isEmpty,
                abbreviations.contains(word.lowercased()) || (word.count == 1 && word.first!.isLetter)
            {
                word.append(c)
                flush()
            } else {
                flush()
                if !c.isWhitespace {
                    out.append(Token(text: String(c), capitalised: false, sentenceStart: out.isEmpty, breaks: true))
                }
            }
        }
        flush()
        // The first word (after opening quotes or brackets) starts the sentence, and so does the first word of a
        // quotation ("He said, "Thanks."").
        if let first = out.firstIndex(where: { !$0.breaks }) {
            for i in out.indices {
                let quoted =
                    i > 0 && ["\"", "“", "'", "‘"].contains(out[i - 1].text)
                    && (i == 1 || out[i - 2].breaks || out[i - 2].text.last == ":")
                out[i].sentenceStart = i == first || (quoted && !out[i].breaks)
            }
        }
        return out
    }

    // MARK: - Entities

    /// The entities of `text`, most mentioned first (ties by first appearance).
    public func entities(in text: String) -> [Entity] {
        let sentences = Self.sentences(text).map(Self.tokens)
        // Words the text capitalises somewhere other than at a sentence start: proper there, so proper everywhere.
        var capitalisedInside = Set<String>()
        var lowercaseSeen = Set<String>()
        for tokens in sentences {
            for t in tokens where !t.breaks {
                if t.capitalised && !t.sentenceStart { capitalisedInside.insert(t.text) }
                if t.text.first?.isLowercase ?? false { lowercaseSeen.insert(t.text) }
            }
        }
        var counts: [String: Int] = [:]
        var order: [String] = []
        for tokens in sentences {
            var run: [Token] = []
            func close() {
                defer { run = [] }
                var parts = run
                // Connectors never end a name.
                while let last = parts.last, !last.capitalised { parts.removeLast() }
                // Leading stop words, titles and sentence-initial common words go.
                while let first = parts.first {
                    let lower = first.text.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
                    if Self.stopWords.contains(lower) || Self.titles.contains(lower) || Self.calendar.contains(lower) {
                        parts.removeFirst()
                    } else if first.sentenceStart,
                        lowercaseSeen.contains(lower)
                            || (commonWords.contains(lower) && !capitalisedInside.contains(first.text))
                    {
                        parts.removeFirst()
                    } else {
                        break
                    }
                    while let f = parts.first, !f.capitalised { parts.removeFirst() }
                }
                guard !parts.isEmpty else { return }
                // Trailing calendar words ("Debian January") are not part of a name.
                while let last = parts.last, Self.calendar.contains(last.text.lowercased()) { parts.removeLast() }
                guard !parts.isEmpty else { return }
                let name = parts.map(\.text).joined(separator: " ")
                let lower = name.lowercased()
                guard !Self.stopWords.contains(lower), !Self.calendar.contains(lower),
                    name.count > 1 || name.first!.isUppercase,
                    name.contains(where: \.isLetter)
                else { return }
                if counts[name] == nil { order.append(name) }
                counts[name, default: 0] += 1
            }
            for (i, token) in tokens.enumerated() {
                if token.breaks {
                    close()
                } else if token.capitalised {
                    run.append(token)
                } else if !run.isEmpty, Self.connectors.contains(token.text), i + 1 < tokens.count,
                    tokens[i + 1].capitalised
                {
                    run.append(token)
                } else {
                    close()
                }
            }
            close()
        }
        let rank = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        return counts.map { Entity(text: $0.key, mentions: $0.value) }
            .sorted { $0.mentions != $1.mentions ? $0.mentions > $1.mentions : rank[$0.text]! < rank[$1.text]! }
    }
}
