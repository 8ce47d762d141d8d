import Foundation
import GRDB
import GRDBSQLite

extension LogStore {
    /// FilterLogEvents: events of one group in [start, end) matching the pattern, oldest (or newest) first.
    ///
    /// The table and the sealed blocks are merged in (timestamp, id) order. A block is decoded only when the merge
    /// reaches its first timestamp (its last, newest first), so a search that stops at its limit decodes only the
    /// blocks it needed.
    public func filter(_ query: LogQuery) throws -> Page {
        try database.pool.read { db in
            guard let groupID = try Self.groupID(db, query.group, create: false, now: 0) else {
                throw LogsError(status: 404, code: "ResourceNotFoundException", "no log group '\(query.group)'")
            }
            var search = try Search(db: db, groupID: groupID, query: query)
            return try search.run()
        }
    }

    /// Events of a group stored after event id `after`, in id order (for following a group live).
    public func events(in group: String, after: Int64, limit: Int = 1_000) throws -> [LogEvent] {
        try database.pool.read { db in
            guard let groupID = try Self.groupID(db, group, create: false, now: 0) else { return [] }
            var found: [LogEvent] = []
            // Blocks first (a follower that fell behind sealing), in id order, until `limit` is certain.
            // The list first, each block's data only when it is read.
            let blocks = try Row.fetchAll(
                db,
                sql:
                    "SELECT id, first_id, raw_bytes FROM log_blocks WHERE group_id = ? AND last_id > ? ORDER BY first_id",
                arguments: [groupID, after])
            for row in blocks {
                if found.count >= limit, let last = found.last, (row["first_id"] as Int64) > last.id { break }
                guard
                    let data = try Data.fetchOne(
                        db, sql: "SELECT data FROM log_blocks WHERE id = ?", arguments: [row["id"] as Int64])
                else { continue }
                let block = try DecodedLogBlock(compressed: Array(data), rawBytes: row["raw_bytes"])
                for i in 0..<block.count where block.ids[i] > after { found.append(block.event(i, group: group)) }
                found.sort { $0.id < $1.id }
                if found.count > limit { found.removeLast(found.count - limit) }
            }
            found += try Row.fetchAll(
                db,
                sql:
                    "SELECT id, stream, ts, ingested, message FROM log_events WHERE group_id = ? AND id > ? ORDER BY id LIMIT ?",
                arguments: [groupID, after, limit]
            ).map {
                LogEvent(
                    id: $0["id"], group: group, stream: $0["stream"], timestamp: $0["ts"],
                    ingestionTime: $0["ingested"], message: $0["message"])
            }
            found.sort { $0.id < $1.id }
            return Array(found.prefix(limit))
        }
    }

    /// The newest event id stored (0 when none).
    public func lastEventID() throws -> Int64 {
        try database.pool.read { db in
            max(
                try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM log_events") ?? 0,
                try Int64.fetchOne(db, sql: "SELECT MAX(last_id) FROM log_blocks") ?? 0)
        }
    }

    /// One FilterLogEvents request: a merge of the table (read in chunks through the index) and the blocks.
    private struct Search {
        typealias Key = (ts: Int64, id: Int64)

        /// A block the merge has opened, with its position and the end of its range.
        struct OpenBlock {
            let block: DecodedLogBlock
            /// Streams of the block the query's prefix admits, by index.
            let admitted: [Bool]
            var position: Int
            /// One past the last position in range (newest first: one before).
            let stop: Int
            var key: Key { (block.timestamps[position], block.ids[position]) }
        }

        struct BlockRef {
            let minTs: Int64
            let maxTs: Int64
            let rawBytes: Int
            let rowID: Int64
        }

        let db: Database
        let groupID: Int64
        let query: LogQuery
        let descending: Bool
        var cursor: Key?
        var events: [LogEvent] = []
        var scanned = 0
        var scratch = FilterScratch()
        let exact: (sql: String, arguments: [String])?
        let matcher: FilterPattern?
        let first: Statement
        let next: Statement
        let extraArguments: StatementArguments
        /// The table's current row, when the statement is on one.
        var rows: RowCursor?
        /// The statement `rows` steps (`first` or `next`).
        var tableStatement: Statement
        var tableRow: Key?
        var tableRead = 0
        /// The blocks in range, in the order the merge reaches them; those before `nextPending` are open or done.
        var pending: [BlockRef]
        var nextPending = 0
        var open: [OpenBlock] = []

        init(db: Database, groupID: Int64, query: LogQuery) throws {
            self.db = db
            self.groupID = groupID
            self.query = query
            descending = query.descending
            cursor = try query.token.map(LogStore.decodeToken).map { (ts: $0.0, id: $0.1) }
            let order = descending ? "DESC" : "ASC"
            // Written so that SQLite bounds the index range by ts: a row-value comparison would rescan from the start
            // of the group for every chunk, and so would two lower bounds (`ts >= start AND ts >= cursor`: SQLite
            // takes the first), so the tighter bound of each side is computed here and passed alone.
            let after = descending ? "(ts < ? OR id < ?)" : "(ts > ? OR id > ?)"
            // Term patterns run inside SQLite (instr), so only matching rows are read; the others filter on the
            // bytes of the rows their pre-filter lets through.
            exact = query.pattern?.sqlCondition
            let pushed = exact ?? query.pattern?.sqlPrefilter
            let extra = pushed.map { " AND " + $0.sql } ?? ""
            extraArguments = StatementArguments(pushed?.arguments ?? [])
            matcher = query.pattern
            let columns =
                "SELECT id, stream, ts, ingested, message FROM log_events WHERE group_id = ? AND ts >= ? AND ts < ?"
            first = try db.cachedStatement(
                sql: "\(columns)\(extra) ORDER BY ts \(order), id \(order) LIMIT ?")
            next = try db.cachedStatement(
                sql: "\(columns) AND \(after)\(extra) ORDER BY ts \(order), id \(order) LIMIT ?")
            tableStatement = first
            // The blocks that hold events in range beyond the cursor, in the order the merge reaches them.
            var lower = query.start
            var upper = query.end
            if let cursor {
                if descending { upper = min(upper, cursor.ts &+ 1) } else { lower = max(lower, cursor.ts) }
            }
            pending = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, min_ts, max_ts, raw_bytes FROM log_blocks WHERE group_id = ? AND max_ts >= ? AND min_ts < ?
                    ORDER BY \(descending ? "max_ts DESC" : "min_ts ASC"), id
                    """,
                arguments: [groupID, lower, upper]
            ).map { BlockRef(minTs: $0["min_ts"], maxTs: $0["max_ts"], rawBytes: $0["raw_bytes"], rowID: $0["id"]) }
        }

        /// Whether `a` comes before `b` in the search's order.
        func before(_ a: Key, _ b: Key) -> Bool {
            descending ? (a.ts, a.id) > (b.ts, b.id) : (a.ts, a.id) < (b.ts, b.id)
        }

        mutating func run() throws -> Page {
            try queryTable(from: cursor)
            while scanned < LogStore.scanBudget {
                var best: Key? = tableRow
                var bestBlock: Int?
                for (i, block) in open.enumerated() where best == nil || before(block.key, best!) {
                    best = block.key
                    bestBlock = i
                }
                // A block not yet open may hold something earlier: open it first.
                if nextPending < pending.count,
                    best == nil
                        || (descending
                            ? pending[nextPending].maxTs >= best!.ts : pending[nextPending].minTs <= best!.ts)
                {
                    nextPending += 1
                    try openBlock(pending[nextPending - 1])
                    continue
                }
                guard let key = best else { return Page(events: events, nextToken: nil, scanned: scanned) }
                scanned += 1
                cursor = key
                if let i = bestBlock {
                    takeFromBlock(i)
                } else {
                    try takeFromTable()
                }
                if events.count == query.limit {
                    return Page(events: events, nextToken: LogStore.encodeToken(key.ts, key.id), scanned: scanned)
                }
            }
            return Page(events: events, nextToken: cursor.map { LogStore.encodeToken($0.ts, $0.id) }, scanned: scanned)
        }

        /// Starts a chunk of table rows after `key` (from the start when nil) and moves to its first row.
        mutating func queryTable(from key: Key?) throws {
            let chunk = LogStore.scanChunk
            tableStatement = key == nil ? first : next
            if let key {
                rows = try Row.fetchCursor(
                    next,
                    arguments: [
                        groupID, descending ? query.start : max(query.start, key.ts),
                        descending ? min(query.end, key.ts &+ 1) : query.end, key.ts, key.id,
                    ] + extraArguments + [chunk])
            } else {
                rows = try Row.fetchCursor(
                    first, arguments: [groupID, query.start, query.end] + extraArguments + [chunk])
            }
            tableRead = 0
            try stepTable()
        }

        mutating func stepTable() throws {
            guard let rows, try rows.next() != nil else {
                tableRow = nil
                return
            }
            tableRead += 1
            let raw = tableStatement.sqliteStatement
            tableRow = (sqlite3_column_int64(raw, 2), sqlite3_column_int64(raw, 0))
        }

        /// The current table row: matched, kept or not, then the next one (a new chunk after a full one).
        mutating func takeFromTable() throws {
            let raw = tableStatement.sqliteStatement
            let (ts, id) = tableRow!
            var keep = true
            if let prefix = query.streamPrefix, !LogStore.text(raw, 1).hasPrefix(prefix) { keep = false }
            if keep, exact == nil, let matcher {
                let length = Int(sqlite3_column_bytes(raw, 4))
                let bytes = UnsafeRawBufferPointer(start: sqlite3_column_text(raw, 4), count: length)
                keep = matcher.matches(bytes, scratch: &scratch)
            }
            if keep {
                events.append(
                    LogEvent(
                        id: id, group: query.group, stream: LogStore.text(raw, 1), timestamp: ts,
                        ingestionTime: sqlite3_column_int64(raw, 3), message: LogStore.text(raw, 4)))
            }
            if tableRead == LogStore.scanChunk {
                try queryTable(from: (ts, id))
            } else {
                try stepTable()
            }
        }

        mutating func openBlock(_ ref: BlockRef) throws {
            guard
                let data = try Data.fetchOne(
                    db, sql: "SELECT data FROM log_blocks WHERE id = ?", arguments: [ref.rowID])
            else { return }
            let block = try DecodedLogBlock(compressed: Array(data), rawBytes: ref.rawBytes)
            let admitted = block.streams.map { query.streamPrefix.map($0.hasPrefix) ?? true }
            // Events are in (ts, id) order: find the range inside [start, end) and past the cursor.
            var low = 0
            var high = block.count
            while low < high, block.timestamps[low] < query.start { low += 1 }
            while high > low, block.timestamps[high - 1] >= query.end { high -= 1 }
            if let cursor {
                if descending {
                    while high > low, (block.timestamps[high - 1], block.ids[high - 1]) >= (cursor.ts, cursor.id) {
                        high -= 1
                    }
                } else {
                    while low < high, (block.timestamps[low], block.ids[low]) <= (cursor.ts, cursor.id) { low += 1 }
                }
            }
            guard low < high else { return }
            open.append(
                OpenBlock(
                    block: block, admitted: admitted, position: descending ? high - 1 : low,
                    stop: descending ? low - 1 : high))
        }

        mutating func takeFromBlock(_ i: Int) {
            let position = open[i].position
            let block = open[i].block
            var keep = open[i].admitted[block.streamIndexes[position]]
            if keep, let matcher {
                keep = block.withMessage(position) { matcher.matches($0, scratch: &scratch) }
            }
            if keep { events.append(block.event(position, group: query.group)) }
            open[i].position += descending ? -1 : 1
            if open[i].position == open[i].stop { open.remove(at: i) }
        }
    }
}
