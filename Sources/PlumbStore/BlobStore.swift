import Foundation

/// Objects on disk under a root directory, by key (`a/b/c.ext`): written atomically (temporary file, fsync,
/// rename, fsync of the directory), optionally zlib-compressed, with the original size in a small header.
public final class BlobStore: Sendable {
    public let root: String
    /// The archive tier (Glacier): a separate directory, maximum compression, readable only after a restore.
    public let archiveRoot: String
    static let magic: [UInt8] = Array("PLB1".utf8)

    public init(root: String) throws {
        self.root = root
        archiveRoot = root + "-archive"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    /// Keys are relative paths of letters, digits, `.`, `_`, `-` and `/`, without `..` or a leading `/`.
    public static func validate(_ key: String) throws {
        guard !key.isEmpty, key.count <= 512, !key.hasPrefix("/"), !key.split(separator: "/").contains(".."),
            !key.split(separator: "/", omittingEmptySubsequences: false).contains(""),
            key.unicodeScalars.allSatisfy({
                CharacterSet.alphanumerics.contains($0) || "._-/".unicodeScalars.contains($0)
            })
        else {
            throw StoreError(
                code: .invalid,
                message:
                    "'key' must be a relative path of at most 512 letters, digits, '.', '_', '-' and '/' (got '\(key.prefix(64).unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : String($0) }.joined())')"
            )
        }
    }

    func path(_ key: String) -> String { root + "/" + key }

    /// Writes `bytes` under `key` (replacing it); zlib at `compressionLevel` when given (9 = smallest).
    public func put(_ key: String, _ bytes: [UInt8], compressionLevel: Int32? = nil) throws {
        try Self.validate(key)
        try Self.write(bytes, to: path(key), compressionLevel: compressionLevel)
    }

    /// Header (magic, compression flag, original size) and payload, through a temporary file, fsync and rename.
    static func write(_ bytes: [UInt8], to target: String, compressionLevel: Int32?) throws {
        var header = magic
        header.append(compressionLevel == nil ? 0 : 1)
        var size = UInt64(bytes.count).littleEndian
        withUnsafeBytes(of: &size) { header += $0 }
        let payload = try compressionLevel.map { try Zlib.compress(bytes, level: $0) } ?? bytes
        let directory = (target as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = target + ".tmp-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw StoreError(code: .io, message: "cannot create \(temporary)") }
        var ok = true
        for chunk in [header, payload] {
            ok =
                ok
                && chunk.withUnsafeBytes { raw -> Bool in
                    var offset = 0
                    while offset < raw.count {
                        let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                        if n <= 0 { return false }
                        offset += n
                    }
                    return true
                }
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(temporary, target) == 0 else {
            unlink(temporary)
            throw StoreError(code: .io, message: "cannot write \(target)")
        }
        let dfd = open(directory, O_RDONLY)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }

    /// The decompressed bytes of the object file at `path`, or nil when there is none.
    static func read(_ path: String) throws -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let bytes = [UInt8](data)
        guard bytes.count >= 13, Array(bytes.prefix(4)) == magic else {
            throw StoreError(code: .corrupt, message: "object \(path) is damaged")
        }
        var size: UInt64 = 0
        withUnsafeMutableBytes(of: &size) { $0.copyBytes(from: bytes[5..<13]) }
        let payload = Array(bytes[13...])
        return bytes[4] == 1 ? try Zlib.decompress(payload, originalSize: Int(UInt64(littleEndian: size))) : payload
    }

    /// Where an object lives.
    public enum Tier: Sendable, Equatable {
        case hot
        case archived
        /// Archived, with a hot copy readable until the given epoch second.
        case restored(until: Int64)
    }

    /// The object's tier, or nil when there is no such object.
    public func tier(_ key: String) throws -> Tier? {
        try Self.validate(key)
        let archived = FileManager.default.fileExists(atPath: archiveRoot + "/" + key)
        let hot = FileManager.default.fileExists(atPath: path(key))
        if archived {
            if hot, let until = restoredUntil(key) { return .restored(until: until) }
            return .archived
        }
        return hot ? .hot : nil
    }

    func restoredUntil(_ key: String) -> Int64? {
        guard let text = try? String(contentsOfFile: path(key) + ".restore", encoding: .utf8) else { return nil }
        return Int64(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Moves an object to the archive tier at maximum compression.
    public func archive(_ key: String) throws {
        guard let bytes = try get(key) else { throw StoreError(code: .invalid, message: "no object \(key)") }
        try Self.write(bytes, to: archiveRoot + "/" + key, compressionLevel: 9)
        try delete(key)
        unlink(path(key) + ".restore")
    }

    /// Glacier's restore: a hot copy of an archived object, readable until `until` (epoch seconds).
    public func restore(_ key: String, until: Int64) throws {
        guard case .some(let tier) = try tier(key), tier != .hot else {
            throw StoreError(code: .invalid, message: "\(key) is not archived")
        }
        guard let bytes = try Self.read(archiveRoot + "/" + key) else {
            throw StoreError(code: .invalid, message: "no archived object \(key)")
        }
        try put(key, bytes, compressionLevel: 6)
        try Data(String(until).utf8).write(to: URL(fileURLWithPath: path(key) + ".restore"), options: .atomic)
    }

    /// Lifecycle: hot objects under `prefix` not modified for `archiveAfter` seconds move to the archive; restored
    /// copies past their time are dropped (the archived object stays). Returns (archived, expired) keys.
    public func applyLifecycle(
        prefix: String, archiveAfter: Double, now: Double
    ) throws -> (archived: [String], expired: [String]) {
        var archived: [String] = []
        var expired: [String] = []
        for key in list(prefix: prefix) {
            switch try tier(key) {
            case .hot:
                let modified =
                    ((try? FileManager.default.attributesOfItem(atPath: path(key)))?[.modificationDate] as? Date)?
                    .timeIntervalSince1970 ?? now
                if now - modified >= archiveAfter {
                    try archive(key)
                    archived.append(key)
                }
            case .restored(let until) where Double(until) <= now:
                try delete(key)
                unlink(path(key) + ".restore")
                expired.append(key)
            default:
                break
            }
        }
        return (archived, expired)
    }

    /// The object's bytes (decompressed), or nil when there is none. An archived object that is not restored is an
    /// error saying so.
    public func get(_ key: String) throws -> [UInt8]? {
        try Self.validate(key)
        guard let bytes = try Self.read(path(key)) else {
            if FileManager.default.fileExists(atPath: archiveRoot + "/" + key) {
                throw StoreError(
                    code: .archived, message: "object \(key) is in the archive tier; restore it before reading")
            }
            return nil
        }
        return bytes
    }

    /// Bytes the object takes on disk (compressed), or nil.
    public func storedSize(_ key: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path(key)))?[.size] as? Int
    }

    /// Keys under `prefix`, sorted.
    public func list(prefix: String = "") -> [String] { Self.keys(under: root, prefix: prefix) }

    /// Keys in the archive tier under `prefix`, sorted.
    public func listArchived(prefix: String = "") -> [String] { Self.keys(under: archiveRoot, prefix: prefix) }

    static func keys(under root: String, prefix: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        var keys: [String] = []
        while let item = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + item, isDirectory: &isDirectory),
                !isDirectory.boolValue,
                item.hasPrefix(prefix), !item.contains(".tmp-"), !item.hasSuffix(".restore")
            {
                keys.append(item)
            }
        }
        return keys.sorted()
    }

    public func delete(_ key: String) throws {
        try Self.validate(key)
        if unlink(path(key)) != 0 && errno != ENOENT {
            throw StoreError(code: .io, message: "cannot delete object \(key)")
        }
    }
}
