import Foundation
import PlumbLogs
import Testing

/// The console goes to the journal only when stderr is the stream systemd connected (`JOURNAL_STREAM` =
/// `<device>:<inode>` of stderr), never merely because a variable was inherited from a service.
@Suite("Journal stream detection")
struct JournalStreamTests {
    /// A temporary file open for writing, with its `device:inode`.
    static func openFile() throws -> (descriptor: Int32, identity: String, path: String) {
        let path = NSTemporaryDirectory() + "plumb-journal-\(UUID().uuidString)"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw CocoaError(.fileReadUnknown) }
        return (descriptor, "\(status.st_dev):\(status.st_ino)", path)
    }

    @Test("stderr that is the named stream: the journal; another file, a malformed value or none: not")
    func detection() throws {
        let file = try Self.openFile()
        let other = try Self.openFile()
        defer {
            close(file.descriptor)
            close(other.descriptor)
            unlink(file.path)
            unlink(other.path)
        }
        #expect(
            JournalLogHandler.journalIsAvailable(
                environment: ["JOURNAL_STREAM": file.identity], stderr: file.descriptor))
        #expect(
            !JournalLogHandler.journalIsAvailable(
                environment: ["JOURNAL_STREAM": file.identity], stderr: other.descriptor),
            "stderr redirected to another file by a child's parent")
        #expect(
            !JournalLogHandler.journalIsAvailable(environment: ["INVOCATION_ID": "0123abcd"], stderr: file.descriptor),
            "running in a unit says nothing about where stderr goes")
        #expect(!JournalLogHandler.journalIsAvailable(environment: [:], stderr: file.descriptor))
        for malformed in ["", ":", "12", "a:b", "1:2:3", "-1:5", "\(file.identity)x"] {
            #expect(
                !JournalLogHandler.journalIsAvailable(
                    environment: ["JOURNAL_STREAM": malformed], stderr: file.descriptor),
                "\(malformed)")
        }
        #expect(!JournalLogHandler.journalIsAvailable(environment: ["JOURNAL_STREAM": file.identity], stderr: -1))
    }
}
