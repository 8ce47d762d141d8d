import Foundation
import PlumbKit
import Testing

@testable import Support

/// The support bot's matcher on the shipped intents file.
@Suite struct IntentModelTests {
    static func bot() throws -> SupportBot {
        let path = SharedFiles.locate("support", containing: "intents.yaml") + "/intents.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let context = try PluginContextStub.make()
        return try SupportBot(file: try context.decodeYAML(IntentFile.self, from: text))
    }

    @Test(arguments: [
        ("how many users are online?", "online_users"),
        ("How many people are online right now", "online_users"),
        ("who's online", "online_users"),
        ("how do I join the room called games", "join_room"),
        ("how can I switch rooms", "join_room"),
        ("why is my message red?", "sentiment_colours"),
        ("what do the colors mean", "sentiment_colours"),
        ("where can I see older messages", "history"),
        ("help", "navigation_help"),
        ("hello", "greeting"),
        ("what is the capital of Peru", "fallback"),
        ("banana", "fallback"),
        // A "how do I …" about something else must not be navigation help (it was, with confidence 1.0).
        ("how do I cook pasta", "fallback"),
        ("how do I renew my passport", "fallback"),
        ("how do I use this site", "navigation_help"),
    ])
    func matches(_ question: String, _ intent: String) throws {
        let reply = try Self.bot().answer(question)
        #expect(reply.intent == intent, "\(question) → \(reply.intent) (\(reply.confidence))")
        if intent != "fallback" { #expect(reply.confidence >= 0.35) }
    }

    @Test func slotsFillTheTemplateAndOptionalPartsDropWithoutThem() throws {
        let bot = try Self.bot()
        #expect(bot.answer("how do I join the room called games").answer.contains("to go to room games"))
        let without = bot.answer("how can I change room").answer
        #expect(
            !without.contains("to go to room") && !without.contains("[[") && !without.contains("{room}"), "\(without)")
        #expect(SupportBot.fill("a [[b {x}]] c {y}", slots: ["y": "Y"]) == "a  c Y")
        #expect(SupportBot.fill("a [[b {x}]] c", slots: ["x": "X"]) == "a b X c")
    }

    @Test func badIntentFilesAreRefusedWithTheReason() throws {
        let context = try PluginContextStub.make()
        let twice =
            "fallback: no\nintents:\n  - {name: a, utterances: [x], answer: y}\n  - {name: a, utterances: [z], answer: y}\n"
        #expect(throws: FunctionError.self) {
            try SupportBot(file: try context.decodeYAML(IntentFile.self, from: twice))
        }
        let builtin = "fallback: no\nintents:\n  - {name: a, utterances: [x], answer: y, builtin: weather}\n"
        #expect(throws: FunctionError.self) {
            try SupportBot(file: try context.decodeYAML(IntentFile.self, from: builtin))
        }
        let regex = "fallback: no\nintents:\n  - {name: a, utterances: [x], answer: y, slots: {r: \"(\"}}\n"
        #expect(throws: FunctionError.self) {
            try SupportBot(file: try context.decodeYAML(IntentFile.self, from: regex))
        }
    }
}

enum PluginContextStub {
    static func make() throws -> PluginContext {
        let dir = NSTemporaryDirectory() + "support-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return PluginContext(
            pluginName: "support", logger: .init(label: "test"), database: try .init(path: dir + "/db.sqlite"),
            dataDirectory: dir, settings: [:])
    }
}
