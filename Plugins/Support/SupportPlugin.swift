import Foundation
import GRDB
import PlumbKit

/// The online support bot (the seed's Lex bot): intents from a YAML file, matched by `IntentModel`.
///
/// `POST /apps/support/ask {"text", "session"}` → `{"intent", "confidence", "answer", "session"}`. The built-in
/// intent `online` answers from the chat's live connections (`chat.online`, invoked through the host).
public struct SupportPlugin: Plugin {
    public static let name = "support"
    public static let maxQuestionLength = 1_000

    let bot: SupportBot
    let database: DatabasePool

    public init(context: PluginContext) async throws {
        let path =
            context.settings["intents_file"]
            ?? (SharedFiles.locate("support", containing: "intents.yaml") + "/intents.yaml")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw FunctionError(
                status: 500, code: "ConfigurationError",
                message: "cannot read the support intents file \(path) (plugins.support.intents_file)")
        }
        let file: IntentFile
        do {
            file = try context.decodeYAML(IntentFile.self, from: text)
        } catch {
            throw FunctionError(status: 500, code: "ConfigurationError", message: "\(path): \(error)")
        }
        bot = try SupportBot(file: file)
        database = context.database
    }

    public static let migrations: [PluginMigration] = [
        PluginMigration("support-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE exchanges (id INTEGER PRIMARY KEY AUTOINCREMENT, session TEXT, question TEXT NOT NULL,
                        intent TEXT NOT NULL, confidence REAL NOT NULL, answer TEXT NOT NULL, ts TEXT NOT NULL);
                    """)
        }
    ]

    public static let functions: [Function<SupportPlugin>] = [
        .http(.post, "/ask", name: "ask") { plugin, request, context in try await plugin.ask(request, context) }
    ]

    struct Question: Decodable {
        let text: String
        let session: String?
    }

    struct Answer: Encodable {
        let intent: String
        let confidence: Double
        let answer: String
        let session: String?
    }

    func ask(_ request: FunctionRequest, _ context: FunctionContext) async throws -> FunctionResponse {
        let question = try request.decode(Question.self)
        let text = question.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw FunctionError.badRequest("'text' must not be empty") }
        guard text.count <= Self.maxQuestionLength else {
            throw FunctionError.badRequest("'text' is longer than \(Self.maxQuestionLength) characters")
        }
        if let session = question.session, session.count > 200 {
            throw FunctionError.badRequest("'session' is longer than 200 characters")
        }
        var reply = bot.answer(text)
        if reply.builtin == "online" {
            reply.answer = await online(template: reply.answer, context)
        }
        let answer = Answer(
            intent: reply.intent, confidence: (reply.confidence * 1_000).rounded() / 1_000, answer: reply.answer,
            session: question.session)
        let now = Date().timeIntervalSince1970
        try await database.write { db in
            try db.execute(
                sql:
                    "INSERT INTO exchanges (session, question, intent, confidence, answer, ts) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [question.session, text, answer.intent, answer.confidence, answer.answer, now])
        }
        return try .json(answer)
    }

    /// Fills `{online}` and `{rooms}` from the chat's live connections.
    func online(template: String, _ context: FunctionContext) async -> String {
        do {
            let response = try await context.invoke("chat.online", FunctionRequest(method: .get, path: "/online"))
            let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
            let count = object["online"] as? Int ?? 0
            let rooms = (object["rooms"] as? [String: Int] ?? [:]).sorted { $0.key < $1.key }
            let roomText =
                rooms.isEmpty ? "no rooms in use" : rooms.map { "\($0.value) in \($0.key)" }.joined(separator: ", ")
            return SupportBot.fill(template, slots: ["online": String(count), "rooms": roomText])
        } catch {
            context.logger.warning("cannot reach the chat for the online count: \(error)")
            return "I cannot see the chat right now."
        }
    }
}

/// The intents file.
struct IntentFile: Decodable {
    struct Intent: Decodable {
        let name: String
        let utterances: [String]
        let answer: String
        let slots: [String: String]?
        let builtin: String?
    }

    let threshold: Double?
    let fallback: String
    let intents: [Intent]
}

/// Intents with their model; answers with templates filled.
struct SupportBot: Sendable {
    struct Reply: Sendable {
        var intent: String
        var confidence: Double
        var answer: String
        var builtin: String?
    }

    struct Intent: Sendable {
        let answer: String
        let slots: [(name: String, pattern: NSRegularExpression)]
        let builtin: String?
    }

    let model: IntentModel
    let intents: [String: Intent]
    let fallback: String

    static let builtins: Set<String> = ["online"]

    init(file: IntentFile) throws {
        var intents: [String: Intent] = [:]
        var utterances: [(intent: String, text: String)] = []
        for intent in file.intents {
            guard intents[intent.name] == nil else {
                throw FunctionError(
                    status: 500, code: "ConfigurationError", message: "intent '\(intent.name)' is declared twice")
            }
            guard !intent.utterances.isEmpty else {
                throw FunctionError(
                    status: 500, code: "ConfigurationError", message: "intent '\(intent.name)' has no utterances")
            }
            if let b = intent.builtin, !Self.builtins.contains(b) {
                throw FunctionError(
                    status: 500, code: "ConfigurationError",
                    message: "intent '\(intent.name)': unknown builtin '\(b)' (known: online)")
            }
            var slots: [(String, NSRegularExpression)] = []
            for (name, pattern) in (intent.slots ?? [:]).sorted(by: { $0.key < $1.key }) {
                do {
                    slots.append((name, try NSRegularExpression(pattern: pattern, options: [.caseInsensitive])))
                } catch {
                    throw FunctionError(
                        status: 500, code: "ConfigurationError",
                        message: "intent '\(intent.name)': slot '\(name)' is not a valid regular expression")
                }
            }
            intents[intent.name] = Intent(answer: intent.answer, slots: slots, builtin: intent.builtin)
            utterances += intent.utterances.map { (intent.name, $0) }
        }
        let threshold = file.threshold ?? 0.35
        guard threshold > 0 && threshold < 1 else {
            throw FunctionError(status: 500, code: "ConfigurationError", message: "threshold must be between 0 and 1")
        }
        model = IntentModel(utterances: utterances, threshold: threshold)
        self.intents = intents
        fallback = file.fallback
    }

    func answer(_ text: String) -> Reply {
        guard let match = model.match(text), let intent = intents[match.intent] else {
            return Reply(intent: "fallback", confidence: model.rank(text).first?.confidence ?? 0, answer: fallback)
        }
        var values: [String: String] = [:]
        let range = NSRange(text.startIndex..., in: text)
        for (name, pattern) in intent.slots {
            if let m = pattern.firstMatch(in: text, range: range), m.numberOfRanges > 1,
                let r = Range(m.range(at: 1), in: text)
            {
                values[name] = String(text[r])
            }
        }
        let answer = intent.builtin == nil ? Self.fill(intent.answer, slots: values) : intent.answer
        return Reply(intent: match.intent, confidence: match.confidence, answer: answer, builtin: intent.builtin)
    }

    /// `{slot}` → its value; `[[ … ]]` kept only when every slot inside it has a value.
    static func fill(_ template: String, slots: [String: String]) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.range(of: "[[") {
            out += substitute(rest[..<open.lowerBound], slots)
            guard let close = rest[open.upperBound...].range(of: "]]") else {
                rest = rest[open.lowerBound...]
                break
            }
            let inner = rest[open.upperBound..<close.lowerBound]
            let names = placeholders(inner)
            if names.allSatisfy({ slots[$0] != nil }) { out += substitute(inner, slots) }
            rest = rest[close.upperBound...]
        }
        return out + substitute(rest, slots)
    }

    static func placeholders(_ text: Substring) -> [String] {
        var names: [String] = []
        var rest = text
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            names.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    static func substitute(_ text: Substring, _ slots: [String: String]) -> String {
        var out = String(text)
        for (name, value) in slots { out = out.replacingOccurrences(of: "{\(name)}", with: value) }
        return out
    }
}
