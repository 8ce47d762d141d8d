import Foundation
import PlumbTesting
import Sentiment
import Testing

@Suite("VADER compatibility")
struct VaderAgreementTests {
    static func scorer() throws -> SentimentScorer {
        SentimentScorer(lexicon: try VaderLexicon(directory: Checkout.root + "/share/plumb/vader"))
    }

    /// Runs the reference Python package over real sentences (Debian's fortunes) and compares compounds.
    @Test("compound agrees with Python vaderSentiment within 0.001 on ≥ 99 % of ≥ 1,000 real sentences")
    func agreesWithPython() async throws {
        let run = try await Python.run(Checkout.root + "/Tests/SentimentTests/vader_reference.py", ["3000"])
        try #require(
            run.status == 0,
            "the reference script failed (needs python3 with vaderSentiment and Debian's fortunes packages; scripts/test.sh installs them): \(run.errors)"
        )
        let data = run.output
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        let scorer = try Self.scorer()
        var agree = 0
        var disagreements: [String] = []
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let text = object["text"] as! String
            let expected = (object["compound"] as! NSNumber).doubleValue
            let got = scorer.score(text).compound
            if abs(got - expected) <= 0.001 {
                agree += 1
            } else {
                disagreements.append("\(expected) vs \(got): \(text)")
            }
        }
        #expect(lines.count >= 1_000, "only \(lines.count) sentences in the corpus")
        let rate = Double(agree) / Double(max(lines.count, 1))
        print("VADER agreement: \(agree)/\(lines.count) = \(String(format: "%.2f", rate * 100)) % within 0.001")
        #expect(
            rate >= 0.99, "agreement \(rate): first disagreements:\n\(disagreements.prefix(15).joined(separator: "\n"))"
        )
    }

    @Test(
        "documented VADER behaviours",
        arguments: [
            ("VADER is smart, handsome, and funny.", 0.8316),
            ("VADER is smart, handsome, and funny!", 0.8439),
            ("VADER is very smart, handsome, and funny.", 0.8545),
            ("VADER is VERY SMART, handsome, and FUNNY.", 0.9227),
            ("VADER is VERY SMART, handsome, and FUNNY!!!", 0.9342),
            ("VADER is not smart, handsome, nor funny.", -0.7424),
            ("The book was good.", 0.4404),
            ("The book was kind of good.", 0.3832),
            ("The plot was good, but the characters are uncompelling and the dialog is not great.", -0.7042),
            ("Today SUX!", -0.5461),
            ("Make sure you :) or :D today!", 0.8633),
            ("Catch utf-8 emoji such as 💘 and 💋 and 😁", 0.875),
            ("Not bad at all", 0.431),
            ("", 0.0),
        ])
    func documented(_ text: String, _ compound: Double) throws {
        #expect(abs(try Self.scorer().score(text).compound - compound) <= 0.0001, "\(text)")
    }

    @Test("labels follow the ±0.05 thresholds")
    func labels() {
        #expect(SentimentScores(pos: 0, neu: 1, neg: 0, compound: 0.05).label == "Positive")
        #expect(SentimentScores(pos: 0, neu: 1, neg: 0, compound: 0.0499).label == "Neutral")
        #expect(SentimentScores(pos: 0, neu: 1, neg: 0, compound: -0.05).label == "Negative")
    }

    @Test("a missing lexicon is a clear error naming the path")
    func missingLexicon() {
        #expect(throws: LexiconError.self) { try VaderLexicon(directory: "/nonexistent/vader") }
        do {
            _ = try VaderLexicon(directory: "/nonexistent/vader")
        } catch {
            #expect("\(error)".contains("/nonexistent/vader/vader_lexicon.txt"))
        }
    }
}
