import Foundation
import GRDB
import Metrics
import PlumbKit

/// Real-time chat over WebSocket, after the seed's API Gateway app: `$connect` stores the connection (user, room),
/// `$disconnect` removes it, `$default` takes `{"action": "send", "text"}`, scores the text with the sentiment
/// function, stores it and broadcasts it to everyone in the room. A message starting with `@support` also gets the
/// support bot's answer, broadcast as a message from `support`.
///
/// Routes under `/apps/chat`: WebSocket `/ws?room=R&user=U`, `GET /rooms/{room}/messages?limit=&before=`,
/// `GET /online`, and the page `GET /`.
public struct ChatPlugin: Plugin {
    public static let name = "chat"
    public static let maxTextLength = 2_000
    static let maxNameLength = 32
    static let maxRoomLength = 64

    let database: DatabasePool
    let host: any HostServices

    public init(context: PluginContext) async throws {
        database = context.database
        host = context.host
    }

    public static let migrations: [PluginMigration] = [
        PluginMigration("chat-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE connections (id TEXT PRIMARY KEY, user TEXT NOT NULL, room TEXT NOT NULL, connected_at TEXT NOT NULL);
                    CREATE INDEX connections_room ON connections(room);
                    CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, room TEXT NOT NULL, user TEXT NOT NULL,
                        text TEXT NOT NULL, sentiment_label TEXT, sentiment_score REAL, ts TEXT NOT NULL);
                    CREATE INDEX messages_room ON messages(room, id);
                    """)
        }
    ]

    /// Connections of a previous run are gone with its process: a crash leaves their rows, which go here.
    public static func prepare(context: PluginContext) async throws {
        let stale = try await context.database.write { db in
            try db.execute(sql: "DELETE FROM connections")
            return db.changesCount
        }
        if stale > 0 { context.logger.info("removed \(stale) connections left by the previous run") }
    }

    public static let functions: [Function<ChatPlugin>] = [
        .webSocket("/ws", route: "$connect", name: "connect") { chat, request, context in
            try await chat.connect(request, context)
        },
        .webSocket("/ws", route: "$disconnect", name: "disconnect") { chat, request, context in
            try await chat.disconnect(request, context)
        },
        .webSocket("/ws", route: "$default", name: "message") { chat, request, context in
            try await chat.message(request, context)
        },
        .http(.get, "/rooms/{room}/messages", name: "history") { chat, request, _ in try await chat.history(request) },
        .http(.get, "/online", name: "online") { chat, _, _ in try await chat.online() },
        .http(.get, "/", name: "page") { _, _, _ in
            FunctionResponse(
                status: 200, headers: ["content-type": "text/html; charset=utf-8"], body: Array(ChatPage.html.utf8))
        },
    ]

    // MARK: - Connections

    static func validName(_ text: String, max: Int) -> Bool {
        !text.isEmpty && text.count <= max
            && text.unicodeScalars.allSatisfy {
                CharacterSet.alphanumerics.contains($0) || " _.-".unicodeScalars.contains($0)
            }
            && text.trimmingCharacters(in: .whitespaces) == text
    }

    func connect(_ request: FunctionRequest, _ context: FunctionContext) async throws -> FunctionResponse {
        guard let id = request.connectionID else { throw FunctionError.badRequest("not a WebSocket connection") }
        let user = request.query["user"] ?? ""
        let room = request.query["room"] ?? "lobby"
        guard Self.validName(user, max: Self.maxNameLength) else {
            throw FunctionError.badRequest(
                "'user' is required: 1–\(Self.maxNameLength) letters, digits, spaces, '_', '.' or '-'")
        }
        guard Self.validName(room, max: Self.maxRoomLength) else {
            throw FunctionError.badRequest(
                "'room' must be 1–\(Self.maxRoomLength) letters, digits, spaces, '_', '.' or '-'")
        }
        let now = Self.timestamp()
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO connections (id, user, room, connected_at) VALUES (?, ?, ?, ?)",
                arguments: [id, user, room, now])
        }
        Gauge(label: "Plumb/Chat/ActiveConnections").record(host.openConnections(plugin: Self.name))
        try await broadcast(presence(room: room, user: user, event: "join"), room: room)
        return FunctionResponse(status: 200)
    }

    func disconnect(_ request: FunctionRequest, _ context: FunctionContext) async throws -> FunctionResponse {
        guard let id = request.connectionID else { throw FunctionError.badRequest("not a WebSocket connection") }
        let row = try await database.write { db -> Row? in
            let row = try Row.fetchOne(db, sql: "SELECT user, room FROM connections WHERE id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM connections WHERE id = ?", arguments: [id])
            return row
        }
        Gauge(label: "Plumb/Chat/ActiveConnections").record(host.openConnections(plugin: Self.name))
        if let row {
            let room: String = row["room"]
            try await broadcast(presence(room: room, user: row["user"], event: "leave"), room: room)
        }
        return FunctionResponse(status: 200)
    }

    func presence(room: String, user: String, event: String) -> String {
        Self.json(["type": "presence", "event": event, "room": room, "user": user])
    }

    // MARK: - Messages

    struct Frame: Decodable {
        let action: String?
        let text: String?
    }

    func message(_ request: FunctionRequest, _ context: FunctionContext) async throws -> FunctionResponse {
        guard let id = request.connectionID else { throw FunctionError.badRequest("not a WebSocket connection") }
        let frame: Frame
        do {
            frame = try JSONDecoder().decode(Frame.self, from: Data(request.body))
        } catch {
            throw FunctionError.badRequest(
                "frames are JSON objects: {\"action\": \"send\", \"text\": \"…\"}", code: "BadRequest")
        }
        guard let action = frame.action else {
            throw FunctionError.badRequest("'action' is required (send)", code: "BadRequest")
        }
        guard action == "send" else {
            throw FunctionError.badRequest("unknown action '\(action)'; actions: send", code: "UnknownAction")
        }
        guard let text = frame.text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else {
            throw FunctionError.badRequest("'text' must not be empty", code: "BadRequest")
        }
        guard text.count <= Self.maxTextLength else {
            throw FunctionError.badRequest("'text' is longer than \(Self.maxTextLength) characters", code: "BadRequest")
        }
        // NUL and other control characters (newlines and tabs aside) are never part of a chat line; shown to other
        // members they can truncate or corrupt their display.
        guard
            !text.unicodeScalars.contains(where: {
                $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t"
            })
        else {
            throw FunctionError.badRequest(
                "'text' must not contain NUL or other control characters", code: "BadRequest")
        }
        guard
            let sender = try await database.read({ db in
                try Row.fetchOne(db, sql: "SELECT user, room FROM connections WHERE id = ?", arguments: [id])
            })
        else { throw FunctionError.badRequest("this connection is not in a room", code: "Gone") }
        let user: String = sender["user"]
        let room: String = sender["room"]
        let sentiment = await score(text, context)
        try await post(room: room, user: user, text: text, sentiment: sentiment)

        if text.lowercased().hasPrefix("@support") {
            let question = String(text.dropFirst("@support".count)).trimmingCharacters(
                in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ":,")))
            let answer = await ask(question, session: id, context)
            try await post(room: room, user: "support", text: answer, sentiment: nil)
        }
        return FunctionResponse(status: 200)
    }

    struct Sentiment: Codable {
        let label: String
        let score: Double
    }

    /// The sentiment function's verdict; a message is never lost because scoring failed (it goes out without one).
    func score(_ text: String, _ context: FunctionContext) async -> Sentiment? {
        do {
            let body = try JSONSerialization.data(withJSONObject: ["text": text])
            let response = try await context.invoke(
                "sentiment.classify",
                FunctionRequest(
                    method: .post, path: "/analyze", headers: ["content-type": "application/json"], body: Array(body)))
            guard response.status == 200 else {
                throw FunctionError(
                    status: response.status, code: "SentimentFailed", message: "status \(response.status)")
            }
            return try JSONDecoder().decode(Sentiment.self, from: Data(response.body))
        } catch {
            context.logger.warning("sentiment unavailable; sending without it: \(error)")
            return nil
        }
    }

    func ask(_ question: String, session: String, _ context: FunctionContext) async -> String {
        do {
            let body = try JSONSerialization.data(withJSONObject: [
                "text": question.isEmpty ? "help" : question, "session": session,
            ])
            let response = try await context.invoke(
                "support.ask",
                FunctionRequest(
                    method: .post, path: "/ask", headers: ["content-type": "application/json"], body: Array(body)))
            let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            return object?["answer"] as? String ?? "The support bot could not answer just now."
        } catch {
            context.logger.warning("support bot unavailable: \(error)")
            return "The support bot is not available just now."
        }
    }

    func post(room: String, user: String, text: String, sentiment: Sentiment?) async throws {
        let ts = Self.timestamp()
        let id = try await database.write { db -> Int64 in
            try db.execute(
                sql:
                    "INSERT INTO messages (room, user, text, sentiment_label, sentiment_score, ts) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [room, user, text, sentiment?.label, sentiment?.score, ts])
            return db.lastInsertedRowID
        }
        Counter(label: "Plumb/Chat/MessagesPerRoom", dimensions: [("Room", room)]).increment()
        try await broadcast(
            Self.messageFrame(id: id, room: room, user: user, text: text, sentiment: sentiment, ts: ts), room: room)
    }

    static func messageFrame(
        id: Int64, room: String, user: String, text: String, sentiment: Sentiment?, ts: String
    ) -> String {
        var object: [String: Any] = ["type": "message", "id": id, "room": room, "user": user, "text": text, "ts": ts]
        object["sentiment"] = sentiment.map { ["label": $0.label, "score": $0.score] as [String: Any] } ?? NSNull()
        return json(object)
    }

    /// Sends `frame` to every connection in `room`; connections that are gone lose their rows.
    func broadcast(_ frame: String, room: String) async throws {
        let members = try await database.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM connections WHERE room = ?", arguments: [room])
        }
        let gone = members.filter { host.post(frame, to: $0) != .queued }
        if !gone.isEmpty {
            try await database.write { db in
                for id in gone { try db.execute(sql: "DELETE FROM connections WHERE id = ?", arguments: [id]) }
            }
        }
    }

    // MARK: - HTTP

    func history(_ request: FunctionRequest) async throws -> FunctionResponse {
        let room = request.pathParameters["room"] ?? ""
        guard Self.validName(room, max: Self.maxRoomLength) else { throw FunctionError.badRequest("no such room name") }
        let limit = try request.intQuery("limit", default: 50, range: 1...500)
        var before = Int64.max
        if let text = request.query["before"] {
            guard let value = Int64(text), value > 0 else {
                throw FunctionError.badRequest("'before' must be a message id")
            }
            before = value
        }
        let rows = try await database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM messages WHERE room = ? AND id < ? ORDER BY id DESC LIMIT ?",
                arguments: [room, before, limit + 1])
        }
        let page = rows.prefix(limit).reversed()
        let items: [[String: Any]] = page.map { row in
            let label: String? = row["sentiment_label"]
            let score: Double? = row["sentiment_score"]
            var item: [String: Any] = [
                "id": row["id"] as Int64, "room": row["room"] as String, "user": row["user"] as String,
                "text": row["text"] as String, "ts": row["ts"] as String,
            ]
            item["sentiment"] = label.map { ["label": $0, "score": score ?? 0] as [String: Any] } ?? NSNull()
            return item
        }
        var body: [String: Any] = ["room": room, "items": items]
        body["next"] = rows.count > limit ? (page.first.map { $0["id"] as Int64 } as Any) : NSNull()
        return FunctionResponse(
            status: 200, headers: ["content-type": "application/json"], body: Array(Self.json(body).utf8))
    }

    func online() async throws -> FunctionResponse {
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT room, COUNT(*) AS n FROM connections GROUP BY room ORDER BY room")
        }
        var rooms: [String: Int] = [:]
        for row in rows { rooms[row["room"]] = row["n"] }
        let body: [String: Any] = ["online": rooms.values.reduce(0, +), "rooms": rooms]
        return FunctionResponse(
            status: 200, headers: ["content-type": "application/json"], body: Array(Self.json(body).utf8))
    }

    static func json(_ object: Any) -> String {
        String(
            decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8),
            as: UTF8.self)
    }

    static func timestamp() -> String { RFC3339.format(Date().timeIntervalSince1970) }
}
