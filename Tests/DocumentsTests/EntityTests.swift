import Documents
import Foundation
import PlumbTesting
import Testing

/// Named entities: sentence splitting and tokenisation details, then precision and recall on a hand-labelled set
/// (`entities-gold.json`: passages of Debian's fortunes, labelled by hand before the extractor ran on them).
@Suite("Named entities")
struct EntityTests {
    static let extractor = EntityExtractor(commonWords: EntityExtractor.systemDictionary())

    @Test("sentences: abbreviations, initials, quotes, ellipses and Unicode")
    func sentences() {
        let s = EntityExtractor.sentences(
            "Dr. Smith met Mr. J. R. Ewing in the U.S. yesterday. “Where is Zoë?” she asked! Then … nothing.\n\nA new paragraph"
        )
        #expect(
            s == [
                "Dr. Smith met Mr. J. R. Ewing in the U.S. yesterday.", "“Where is Zoë?” she asked!", "Then … nothing.",
                "A new paragraph",
            ], "\(s)")
    }

    @Test("entities: runs merged, sentence-initial common words, titles and stop words dropped, mentions counted")
    func rules() {
        let text = """
            Yesterday the people of New York City cheered. The mayor of New York City, Dr. Ada Lovelace, spoke \
            at the Bank of England. Debian's developers met in São Paulo. Several users asked about Debian. \
            In January, Ada Lovelace returned. She said: "Zanzibar is far."
            """
        let found = Self.extractor.entities(in: text)
        let names = found.map(\.text)
        #expect(names.first == "New York City" || names.first == "Ada Lovelace", "\(found)")
        #expect(found.first { $0.text == "New York City" }?.mentions == 2)
        #expect(found.first { $0.text == "Ada Lovelace" }?.mentions == 2)
        #expect(found.first { $0.text == "Debian" }?.mentions == 2)
        #expect(Set(names).isSuperset(of: ["Bank of England", "São Paulo", "Zanzibar"]), "\(names)")
        for dropped in ["Yesterday", "The", "Dr", "Several", "In", "January", "She", "York", "New York"] {
            #expect(!names.contains(dropped), "\(dropped) in \(names)")
        }
    }

    @Test("precision and recall on the hand-labelled passages are both at least 0.8")
    func goldSet() throws {
        let data = try Data(
            contentsOf: URL(fileURLWithPath: Checkout.root + "/Tests/DocumentsTests/entities-gold.json"))
        let passages = try #require(
            (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["passages"] as? [[String: Any]])
        var truePositives = 0
        var predicted = 0
        var expected = 0
        var misses: [String] = []
        var extras: [String] = []
        for passage in passages {
            let gold = Set(passage["entities"] as? [String] ?? [])
            let found = Set(Self.extractor.entities(in: passage["text"] as? String ?? "").map(\.text))
            truePositives += gold.intersection(found).count
            predicted += found.count
            expected += gold.count
            misses += gold.subtracting(found).sorted()
            extras += found.subtracting(gold).sorted()
        }
        let precision = Double(truePositives) / Double(max(predicted, 1))
        let recall = Double(truePositives) / Double(max(expected, 1))
        print(
            String(
                format: "entities: %d passages, %d labelled, %d found, %d right: precision %.3f, recall %.3f",
                passages.count, expected, predicted, truePositives, precision, recall))
        print("entities missed: \(misses)")
        print("entities found but not labelled: \(extras)")
        #expect(precision >= 0.8 && recall >= 0.8, "precision \(precision), recall \(recall)")
    }
}
