import Foundation

/// Zip archives (PKWARE's APPNOTE) as Lambda's deployment packages use them: stored and deflated entries, read from
/// the central directory, with no encryption, Zip64 or spanning.
///
/// Reading treats the archive as hostile: every offset and length is checked against the bytes, names are relative
/// paths without `..` or backslashes, symbolic links are refused, each entry must inflate to exactly its declared
/// size and CRC, and the declared total is checked against `limits` before anything is written.
public enum ZipArchive {
    public struct Limits: Sendable {
        /// Lambda's: 250 MB unzipped.
        public var totalBytes = 262_144_000
        public var entries = 20_000
        public init() {}
    }

    public struct ZipError: Error, CustomStringConvertible, Equatable {
        public let description: String
        init(_ description: String) { self.description = description }
        /// An archive with no file in it.
        public static let empty = ZipError("the zip file has no files")
        /// A directory the files cannot be written to.
        public static func unwritable(_ path: String) -> ZipError { ZipError("\(path) cannot be made") }
    }

    /// One file of an archive.
    public struct Entry: Sendable, Equatable {
        /// The relative path (`app.py`, `lib/util.py`).
        public var path: String
        /// Whether the file is executable (a Unix mode with an execute bit).
        public var executable: Bool
        public var bytes: [UInt8]

        public init(path: String, executable: Bool = false, bytes: [UInt8]) {
            self.path = path
            self.executable = executable
            self.bytes = bytes
        }
    }

    /// What the central directory says of an entry.
    struct Header {
        var path: String
        var isDirectory: Bool
        var executable: Bool
        var method: UInt16
        var crc: UInt32
        var compressedSize: Int
        var size: Int
        var localOffset: Int
    }

    // MARK: - Reading

    /// Every file entry of `archive`, inflated and checked (directory entries are implied by the paths).
    public static func entries(_ archive: [UInt8], limits: Limits = Limits()) throws(ZipError) -> [Entry] {
        var entries: [Entry] = []
        for header in try headers(archive, limits: limits) where !header.isDirectory {
            entries.append(
                Entry(path: header.path, executable: header.executable, bytes: try data(of: header, in: archive)))
        }
        return entries
    }

    /// Writes the files of `archive` under `directory` (which must exist and be empty): directories 0700, files
    /// 0600, or 0700 when the archive marks them executable.
    /// Returns how many files it wrote.
    @discardableResult
    public static func extract(
        _ archive: [UInt8], into directory: String, limits: Limits = Limits()
    ) throws(ZipError) -> Int {
        let headers = try headers(archive, limits: limits)
        for header in headers {
            let target = directory + "/" + header.path
            do {
                if header.isDirectory {
                    try makeDirectories(target, below: directory)
                    continue
                }
                let bytes = try data(of: header, in: archive)
                try makeDirectories((target as NSString).deletingLastPathComponent, below: directory)
                guard
                    FileManager.default.createFile(
                        atPath: target, contents: Data(bytes),
                        attributes: [.posixPermissions: header.executable ? 0o700 : 0o600])
                else { throw ZipError("\(header.path) cannot be written") }
            } catch let error as ZipError {
                throw error
            } catch {
                throw ZipError("\(header.path) cannot be written: \(error)")
            }
        }
        return headers.filter { !$0.isDirectory }.count
    }

    private static func makeDirectories(_ path: String, below root: String) throws {
        guard path != root else { return }
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    static func headers(_ archive: [UInt8], limits: Limits) throws(ZipError) -> [Header] {
        let end = try endOfCentralDirectory(archive)
        var reader = Reader(bytes: archive, at: end.offset)
        var headers: [Header] = []
        var seen = Set<String>()
        var total = 0
        guard end.count <= limits.entries else { throw ZipError("more than \(limits.entries) entries") }
        for _ in 0..<end.count {
            guard try reader.u32() == 0x0201_4b50 else { throw ZipError("a central directory entry is damaged") }
            let madeBy = try reader.u16()
            _ = try reader.u16()  // version needed
            let flags = try reader.u16()
            let method = try reader.u16()
            _ = try reader.u32()  // time and date
            let crc = try reader.u32()
            let compressedSize = Int(try reader.u32())
            let size = Int(try reader.u32())
            let nameLength = Int(try reader.u16())
            let extraLength = Int(try reader.u16())
            let commentLength = Int(try reader.u16())
            _ = try reader.u16()  // disk
            _ = try reader.u16()  // internal attributes
            let external = try reader.u32()
            let localOffset = Int(try reader.u32())
            let nameBytes = try reader.bytes(nameLength)
            try reader.skip(extraLength + commentLength)

            guard flags & 0x1 == 0 else { throw ZipError("encrypted entries are not supported") }
            guard method == 0 || method == 8 else {
                throw ZipError("entry compression method \(method) is not supported (stored and deflate are)")
            }
            guard compressedSize != 0xFFFF_FFFF, size != 0xFFFF_FFFF, localOffset != 0xFFFF_FFFF else {
                throw ZipError("Zip64 archives are not supported")
            }
            guard let name = String(validating: nameBytes, as: UTF8.self) else {
                throw ZipError("an entry's name is not UTF-8")
            }
            let isDirectory = name.hasSuffix("/")
            let path = try checkedPath(isDirectory ? String(name.dropLast()) : name)
            // Unix modes live in the high half of the external attributes when the archive was made on Unix.
            let unixMode = madeBy >> 8 == 3 ? external >> 16 : 0
            if unixMode & 0o170000 == 0o120000 { throw ZipError("\(path) is a symbolic link, which is not accepted") }
            guard seen.insert(path).inserted else { throw ZipError("\(path) appears twice") }
            let (sum, overflow) = total.addingReportingOverflow(size)
            guard !overflow, sum <= limits.totalBytes else {
                throw ZipError("the files add up to more than \(limits.totalBytes) bytes unzipped")
            }
            total = sum
            headers.append(
                Header(
                    path: path, isDirectory: isDirectory, executable: unixMode & 0o111 != 0, method: method, crc: crc,
                    compressedSize: compressedSize, size: size, localOffset: localOffset))
        }
        return headers
    }

    /// A relative path of normal components: no empty, `.` or `..` component, no backslash, NUL or control
    /// character, at most 1,024 bytes.
    static func checkedPath(_ name: String) throws(ZipError) -> String {
        guard !name.isEmpty, name.utf8.count <= 1_024, !name.hasPrefix("/") else {
            throw ZipError("entry name '\(name.prefix(100))' is not a relative path")
        }
        guard !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "\\" || $0.value == 0x7F }) else {
            throw ZipError("entry name '\(name.prefix(100))' has a control character or a backslash")
        }
        for component in name.split(separator: "/", omittingEmptySubsequences: false)
        where component.isEmpty || component == "." || component == ".." {
            throw ZipError("entry name '\(name.prefix(100))' has an empty, '.' or '..' component")
        }
        return name
    }

    static func data(of header: Header, in archive: [UInt8]) throws(ZipError) -> [UInt8] {
        var local = Reader(bytes: archive, at: header.localOffset)
        guard try local.u32() == 0x0403_4b50 else { throw ZipError("\(header.path): its local header is damaged") }
        try local.skip(22)
        let nameLength = Int(try local.u16())
        let extraLength = Int(try local.u16())
        try local.skip(nameLength + extraLength)
        let stored = try local.bytes(header.compressedSize)
        let bytes: [UInt8]
        if header.method == 0 {
            guard header.compressedSize == header.size else { throw ZipError("\(header.path): sizes disagree") }
            bytes = Array(stored)
        } else {
            do {
                bytes = try Zlib.inflateRaw(stored, limit: header.size)
            } catch {
                throw ZipError("\(header.path) does not inflate: \(error.description)")
            }
        }
        guard bytes.count == header.size else {
            throw ZipError("\(header.path) inflates to \(bytes.count) bytes, not the \(header.size) it declares")
        }
        guard Zlib.crc32(bytes) == header.crc else { throw ZipError("\(header.path) fails its CRC check") }
        return bytes
    }

    /// The central directory's place and entry count, from the end record (searched for backwards past a comment).
    static func endOfCentralDirectory(_ archive: [UInt8]) throws(ZipError) -> (offset: Int, count: Int) {
        guard archive.count >= 22 else { throw ZipError("not a zip archive (too short)") }
        var position = archive.count - 22
        let lowest = max(0, archive.count - 22 - 65_535)
        while position >= lowest {
            if archive[position] == 0x50, archive[position + 1] == 0x4b, archive[position + 2] == 0x05,
                archive[position + 3] == 0x06
            {
                var reader = Reader(bytes: archive, at: position + 4)
                let disk = try reader.u16()
                let directoryDisk = try reader.u16()
                let onDisk = try reader.u16()
                let count = try reader.u16()
                let size = Int(try reader.u32())
                let offset = Int(try reader.u32())
                guard disk == 0, directoryDisk == 0, onDisk == count else {
                    throw ZipError("archives spanning several disks are not supported")
                }
                guard count != 0xFFFF, offset != 0xFFFF_FFFF else { throw ZipError("Zip64 archives are not supported") }
                guard offset <= position, size <= position - offset else {
                    throw ZipError("the central directory lies outside the archive")
                }
                return (offset, Int(count))
            }
            position -= 1
        }
        throw ZipError("not a zip archive (no end of central directory)")
    }

    struct Reader {
        let bytes: [UInt8]
        var position: Int

        init(bytes: [UInt8], at position: Int) {
            self.bytes = bytes
            self.position = position
        }

        mutating func bytes(_ count: Int) throws(ZipError) -> ArraySlice<UInt8> {
            guard count >= 0, position >= 0, position <= bytes.count, count <= bytes.count - position else {
                throw ZipError("the archive ends early")
            }
            defer { position += count }
            return bytes[position..<position + count]
        }

        mutating func skip(_ count: Int) throws(ZipError) { _ = try bytes(count) }

        mutating func u16() throws(ZipError) -> UInt16 {
            let b = try bytes(2)
            return UInt16(b[b.startIndex]) | UInt16(b[b.startIndex + 1]) << 8
        }

        mutating func u32() throws(ZipError) -> UInt32 {
            let b = try bytes(4)
            return (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[b.startIndex + $1]) << (8 * $1) }
        }
    }

    // MARK: - Writing

    /// An archive of `entries`, stored (not compressed), with Unix modes (0755 for executables, else 0644).
    public static func archive(_ entries: [Entry]) throws(ZipError) -> [UInt8] {
        var output: [UInt8] = []
        var directory: [UInt8] = []
        func u16(_ value: Int, _ into: inout [UInt8]) { into += [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF)] }
        func u32(_ value: UInt32, _ into: inout [UInt8]) {
            for i in 0..<4 { into.append(UInt8(value >> (8 * i) & 0xFF)) }
        }
        guard entries.count < 0xFFFF else { throw ZipError("more than 65,534 files") }
        for entry in entries {
            let name = Array(try checkedPath(entry.path).utf8)
            guard entry.bytes.count < 0xFFFF_FFFF, output.count < 0xFFFF_FFFF - entry.bytes.count - 30 - name.count
            else { throw ZipError("the archive would need Zip64") }
            let crc = Zlib.crc32(entry.bytes)
            let offset = UInt32(output.count)
            let size = UInt32(entry.bytes.count)
            // Local header: version 2.0, UTF-8 names (bit 11), stored.
            u32(0x0403_4b50, &output)
            u16(20, &output)
            u16(0x0800, &output)
            u16(0, &output)
            u32(0x0021_0000, &output)  // 1980-01-01 00:00
            u32(crc, &output)
            u32(size, &output)
            u32(size, &output)
            u16(name.count, &output)
            u16(0, &output)
            output += name
            output += entry.bytes
            // Central directory entry: made on Unix (3), version 2.0.
            u32(0x0201_4b50, &directory)
            u16(3 << 8 | 20, &directory)
            u16(20, &directory)
            u16(0x0800, &directory)
            u16(0, &directory)
            u32(0x0021_0000, &directory)
            u32(crc, &directory)
            u32(size, &directory)
            u32(size, &directory)
            u16(name.count, &directory)
            u16(0, &directory)
            u16(0, &directory)
            u16(0, &directory)
            u16(0, &directory)
            u32(UInt32(0o100000 | (entry.executable ? 0o755 : 0o644)) << 16, &directory)
            u32(offset, &directory)
            directory += name
        }
        guard output.count < 0xFFFF_FFFF - directory.count else { throw ZipError("the archive would need Zip64") }
        let directoryOffset = UInt32(output.count)
        output += directory
        u32(0x0605_4b50, &output)
        u16(0, &output)
        u16(0, &output)
        u16(entries.count, &output)
        u16(entries.count, &output)
        u32(UInt32(directory.count), &output)
        u32(directoryOffset, &output)
        u16(0, &output)
        return output
    }

    /// The regular files under `directory` (sorted, relative paths; symbolic links and other kinds are refused), as
    /// entries for `archive`.
    public static func files(in directory: String) throws(ZipError) -> [Entry] {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        guard let enumerator = FileManager.default.enumerator(atPath: root.path) else {
            throw ZipError("\(directory) is not a readable directory")
        }
        var entries: [Entry] = []
        while let relative = enumerator.nextObject() as? String {
            let path = root.path + "/" + relative
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                let type = attributes[.type] as? FileAttributeType
            else { throw ZipError("\(relative) cannot be read") }
            switch type {
            case .typeDirectory: continue
            case .typeRegular:
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ZipError("\(relative) cannot be read")
                }
                let mode = (attributes[.posixPermissions] as? Int) ?? 0
                entries.append(Entry(path: relative, executable: mode & 0o111 != 0, bytes: Array(data)))
            default:
                throw ZipError("\(relative) is not a regular file or directory (a link?): it is not packaged")
            }
        }
        return entries.sorted { $0.path < $1.path }
    }
}
