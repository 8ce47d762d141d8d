import GRDB

extension SecretBox {
    /// Seals every value of `column` still in clear (text, or a blob of raw bytes), each bound to its row through
    /// `context(key)`, and checks that every value already sealed opens: a wrong key is found at start, not at the
    /// first use. Returns how many were sealed.
    public func sealColumn(
        _ db: Database, table: String, key: String, column: String, context: (String) -> String
    ) throws -> Int {
        var sealed = 0
        for row in try Row.fetchAll(db, sql: "SELECT \(key), \(column) FROM \(table) WHERE \(column) IS NOT NULL") {
            let id: String = row[key]
            let value: DatabaseValue = row[column]
            let clear: [UInt8]
            switch value.storage {
            case .string(let text) where Self.isSealed(text):
                _ = try open(text, context: context(id))
                continue
            case .string(let text): clear = Array(text.utf8)
            case .blob(let bytes): clear = Array(bytes)
            default: continue
            }
            try db.execute(
                sql: "UPDATE \(table) SET \(column) = ? WHERE \(key) = ?",
                arguments: [try seal(clear, context: context(id)), id])
            sealed += 1
        }
        return sealed
    }
}
