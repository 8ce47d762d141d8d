import Foundation

/// A key kept in a file of its own (mode 0600), made once: the first process to write it wins (link(2) fails
/// when the file exists), so servers starting at once on one data directory agree on one key.
public enum KeyFile {
    /// The file's bytes, or `make()`'s written durably first when there is no file yet.
    public static func readOrCreate(_ path: String, make: () throws -> [UInt8]) throws -> [UInt8] {
        if let data = FileManager.default.contents(atPath: path) { return Array(data) }
        let bytes = try make()
        let temporary = path + ".\(UUID().uuidString).tmp"
        let fd = Foundation.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StoreError(code: .io, message: "cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
        defer { unlink(temporary) }
        let written = bytes.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced else { throw StoreError(code: .io, message: "cannot write \(temporary)") }
        if link(temporary, path) == 0 { return bytes }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreError(code: .io, message: "cannot read \(path)")
        }
        return Array(data)
    }
}
