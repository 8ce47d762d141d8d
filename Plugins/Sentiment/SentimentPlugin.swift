import Foundation
import GRDB
import PlumbKit

/// The comment-sentiment API: score text with VADER, store scored comments, list them page by page.
///
/// Routes (under `/apps/sentiment`): `POST /comments`, `GET /comments?limit=&after=`, `POST /analyze`, and the page
/// `GET /`.
public struct SentimentPlugin: Plugin {
    public static let name = "sentiment"
    /// Longest accepted comment or text, in characters.
    public static let maxTextLength = 10_000

    public let scorer: SentimentScorer
    let database: DatabasePool

    public init(context: PluginContext) async throws {
        let directory = VaderLexicon.locate(configured: context.settings["lexicon_dir"])
        scorer = SentimentScorer(lexicon: try VaderLexicon(directory: directory))
        database = context.database
        context.logger.info(
            "VADER lexicon loaded from \(directory): \(scorer.lexicon.valences.count) words, \(scorer.lexicon.emojis.count) emoji"
        )
    }

    public static let migrations: [PluginMigration] = [
        PluginMigration("comments-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE comments (id INTEGER PRIMARY KEY AUTOINCREMENT, content TEXT NOT NULL,
                        label TEXT NOT NULL, score REAL NOT NULL, pos REAL NOT NULL, neu REAL NOT NULL,
                        neg REAL NOT NULL, created_at TEXT NOT NULL)
                    """)
        }
    ]

    public static let functions: [Function<SentimentPlugin>] = [
        .http(.post, "/comments", name: "create") { plugin, request, _ in try await plugin.create(request) },
        .http(.get, "/comments", name: "list") { plugin, request, _ in try await plugin.list(request) },
        .http(.post, "/analyze", name: "classify") { plugin, request, _ in try plugin.analyze(request) },
        .http(.get, "/", name: "page") { _, _, _ in
            FunctionResponse(
                status: 200, headers: ["content-type": "text/html; charset=utf-8"], body: Array(SentimentPage.html.utf8)
            )
        },
    ]

    struct CommentInput: Decodable {
        let content: String
    }

    struct TextInput: Decodable {
        let text: String
    }

    /// A scored text, as every route returns it.
    public struct Scored: Codable, Sendable {
        public var id: Int64?
        public var content: String?
        public var text: String?
        public var label: String
        public var score: Double
        public var scores: Scores
        public var createdAt: String?

        public struct Scores: Codable, Sendable {
            public var pos: Double
            public var neu: Double
            public var neg: Double
        }

        enum CodingKeys: String, CodingKey {
            case id, content, text, label, score, scores
            case createdAt = "created_at"
        }
    }

    static func checkText(_ text: String, field: String) throws {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw FunctionError.badRequest("'\(field)' must not be empty")
        }
        guard text.count <= maxTextLength else {
            throw FunctionError(
                status: 413, code: "RequestEntityTooLarge",
                message: "'\(field)' is longer than \(maxTextLength) characters")
        }
    }

    func scored(_ text: String) -> Scored {
        let s = scorer.score(text)
        return Scored(label: s.label, score: s.compound, scores: .init(pos: s.pos, neu: s.neu, neg: s.neg))
    }

    func analyze(_ request: FunctionRequest) throws -> FunctionResponse {
        try Self.analyze(request, scorer: scorer)
    }

    /// The work of `POST /analyze`: decode `{"text"}`, score, encode. Shared with the benchmark's bare route.
    public static func analyze(_ request: FunctionRequest, scorer: SentimentScorer) throws -> FunctionResponse {
        let input = try request.decode(TextInput.self)
        try checkText(input.text, field: "text")
        let s = scorer.score(input.text)
        let result = Scored(
            text: input.text, label: s.label, score: s.compound, scores: .init(pos: s.pos, neu: s.neu, neg: s.neg))
        return try .json(result)
    }

    func create(_ request: FunctionRequest) async throws -> FunctionResponse {
        let input = try request.decode(CommentInput.self)
        try Self.checkText(input.content, field: "content")
        var result = scored(input.content)
        result.content = input.content
        let createdAt = RFC3339.format(Date().timeIntervalSince1970)
        result.createdAt = createdAt
        let row = result
        result.id = try await database.write { db in
            try db.execute(
                sql:
                    "INSERT INTO comments (content, label, score, pos, neu, neg, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    row.content, row.label, row.score, row.scores.pos, row.scores.neu, row.scores.neg, createdAt,
                ])
            return db.lastInsertedRowID
        }
        return try .json(result, status: 201)
    }

    struct Page: Encodable {
        let items: [Scored]
        let next: Int64?
    }

    func list(_ request: FunctionRequest) async throws -> FunctionResponse {
        let limit = try request.intQuery("limit", default: 20, range: 1...100)
        var after: Int64 = 0
        if let text = request.query["after"] {
            guard let value = Int64(text), value >= 0 else {
                throw FunctionError.badRequest("'after' must be a comment id (a non-negative integer)")
            }
            after = value
        }
        let rows = try await database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM comments WHERE id > ? ORDER BY id LIMIT ?", arguments: [after, limit + 1])
        }
        let items = rows.prefix(limit).map { row in
            Scored(
                id: row["id"], content: row["content"], label: row["label"], score: row["score"],
                scores: .init(pos: row["pos"], neu: row["neu"], neg: row["neg"]), createdAt: row["created_at"])
        }
        return try .json(Page(items: Array(items), next: rows.count > limit ? items.last?.id : nil))
    }
}
