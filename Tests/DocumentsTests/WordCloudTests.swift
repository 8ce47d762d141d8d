import Documents
import Testing

/// The word cloud's layout and its terminal form.
@Suite("Word cloud")
struct WordCloudTests {
    static let entries: [(String, Int)] = [
        ("Mark Twain", 23), ("Shakespeare", 12), ("Mississippi", 9), ("New England", 5), ("Tom Sawyer", 4),
        ("Hannibal", 3),
        ("Missouri", 2), ("Huck", 1), ("Becky Thatcher", 1), ("Jim", 1),
    ]

    @Test("deterministic, inside the picture, no overlaps, bigger words for more mentions")
    func layout() {
        let a = WordCloud(Self.entries, width: 600, height: 400)
        let b = WordCloud(Self.entries, width: 600, height: 400)
        #expect(a.words == b.words, "the same words give the same picture")
        #expect(a.left.isEmpty && !a.hasOverlaps)
        #expect(a.words.allSatisfy { $0.x >= 0 && $0.y >= 0 && $0.x + $0.width <= 600 && $0.y + $0.height <= 400 })
        let sizes = Dictionary(uniqueKeysWithValues: a.words.map { ($0.text, $0.fontSize) })
        #expect(
            sizes["Mark Twain"]! > sizes["Shakespeare"]! && sizes["Shakespeare"]! > sizes["Missouri"]!
                && sizes["Missouri"]! > sizes["Jim"]!)
        // The heaviest word sits at the centre.
        let top = a.words[0]
        #expect(abs(top.x + top.width / 2 - 300) < 20 && abs(top.y + top.height / 2 - 200) < 20, "\(top)")
        // A crowded picture leaves words out rather than overlapping, and never the heaviest ones (placed first).
        let crowded = WordCloud((0..<300).map { ("word\($0)", 300 - $0) }, width: 300, height: 200)
        #expect(!crowded.hasOverlaps && !crowded.left.isEmpty && crowded.words.count + crowded.left.count == 300)
        #expect(Set(crowded.left).isDisjoint(with: (0..<10).map { "word\($0)" }), "\(crowded.left.prefix(5))")
        let svg = a.svg(title: "A <title> & more")
        #expect(
            svg.contains("<title>A &lt;title&gt; &amp; more</title>")
                && svg.components(separatedBy: "<text ").count == Self.entries.count + 1)
    }

    @Test("terminal: ranked, the heaviest in capitals, bars by weight, colour codes only when asked")
    func terminal() {
        let plain = WordCloud.terminal(Self.entries, columns: 60, colours: false).split(separator: "\n").map(
            String.init)
        #expect(plain.count == Self.entries.count)
        #expect(plain[0].hasPrefix("MARK TWAIN") && plain[1].hasPrefix("Shakespeare"))
        let bars = plain.map { $0.filter { $0 == "█" }.count }
        #expect(bars == bars.sorted(by: >) && bars[0] > bars[9] && bars.allSatisfy { $0 >= 1 })
        #expect(!plain.joined().contains("\u{1B}"))
        let coloured = WordCloud.terminal(Self.entries, columns: 60, colours: true)
        #expect(coloured.contains("\u{1B}[1;34mMARK TWAIN") && coloured.contains("\u{1B}[0m"))
        #expect(WordCloud.terminal([], colours: false) == "no entities\n")
        let ascii = WordCloud.terminal(Self.entries, columns: 60, colours: false, unicode: false).split(separator: "\n")
            .map(String.init)
        #expect(ascii.map { $0.filter { $0 == "#" }.count } == bars && !ascii.joined().contains("█"))
    }
}
