import Foundation
import PlumbStore
import PlumbTesting
import Testing

/// Zip archives as deployment packages: Python's `zipfile` (deflated, with a Unix mode) read back exactly; Plumb's
/// own stored archives read by Python; and hostile archives refused before anything is written.
@Suite("Zip archives")
struct ZipArchiveTests {
    /// Writes an archive with Python's zipfile: entries (name, bytes as text, Unix mode or nil) deflated.
    static func pythonZip(_ entries: [(String, String, Int?)], at path: String) async throws {
        let spec = try JSONSerialization.data(withJSONObject: entries.map { [$0.0, $0.1, $0.2 ?? -1] as [Any] })
        let script = """
            import json, sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
                for name, text, mode in json.loads(sys.argv[2]):
                    info = zipfile.ZipInfo(name)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    if mode >= 0:
                        info.external_attr = mode << 16
                    z.writestr(info, text)
            """
        let outcome = try await Subprocess.run(
            "/usr/bin/env", ["python3", "-c", script, path, String(decoding: spec, as: UTF8.self)])
        #expect(outcome.status == 0, "\(outcome.text)")
    }

    @Test("an archive from Python's zipfile (deflated) is read exactly, executables kept; one of ours reads in Python")
    func roundTrip() async throws {
        let root = TemporaryDirectory("plumb-zip")
        defer { root.remove() }
        let text = String(repeating: "def handler(event, context):\n    return {}\n", count: 200)
        try await Self.pythonZip(
            [("app.py", text, 0o100644), ("lib/util.py", "X = 1\n", nil), ("bootstrap", "#!/bin/sh\n", 0o100755)],
            at: root.path + "/a.zip")
        let archive = Array(try Data(contentsOf: URL(fileURLWithPath: root.path + "/a.zip")))
        let entries = try ZipArchive.entries(archive)
        #expect(entries.map(\.path) == ["app.py", "lib/util.py", "bootstrap"])
        #expect(entries[0].bytes == Array(text.utf8) && archive.count < text.utf8.count, "deflated, and read back")
        #expect(entries.map(\.executable) == [false, false, true])

        try FileManager.default.createDirectory(atPath: root.path + "/out", withIntermediateDirectories: true)
        try ZipArchive.extract(archive, into: root.path + "/out")
        #expect(FileManager.default.contents(atPath: root.path + "/out/lib/util.py") == Data("X = 1\n".utf8))
        #expect(FileManager.default.isExecutableFile(atPath: root.path + "/out/bootstrap"))
        let mode = try FileManager.default.attributesOfItem(atPath: root.path + "/out/app.py")[.posixPermissions]
        #expect(mode as? Int == 0o600)

        // Plumb's own (stored) archive of that directory, read by Python's zipfile with its CRC checks.
        let ours = try ZipArchive.archive(try ZipArchive.files(in: root.path + "/out"))
        try Data(ours).write(to: URL(fileURLWithPath: root.path + "/ours.zip"))
        let listed = try await Subprocess.run(
            "/usr/bin/env",
            [
                "python3", "-c",
                "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; "
                    + "print(','.join(f'{i.filename}:{oct(i.external_attr >> 16)}' for i in z.infolist()))",
                root.path + "/ours.zip",
            ])
        #expect(
            listed.text.trimmingCharacters(in: .whitespacesAndNewlines)
                == "app.py:0o100644,bootstrap:0o100755,lib/util.py:0o100644")
    }

    @Test("paths out of the directory, links, damage, a bomb and a lie about sizes are refused")
    func hostile() async throws {
        let root = TemporaryDirectory("plumb-zip-hostile")
        defer { root.remove() }
        func refused(
            _ entries: [(String, String, Int?)], _ expected: String, limits: ZipArchive.Limits = .init()
        )
            async throws
        {
            let path = root.path + "/\(UUID().uuidString).zip"
            try await Self.pythonZip(entries, at: path)
            let archive = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            let target = root.path + "/" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            #expect(throws: ZipArchive.ZipError.self, "\(entries.map(\.0))") {
                try ZipArchive.extract(archive, into: target, limits: limits)
            }
            do { try ZipArchive.extract(archive, into: target, limits: limits) } catch {
                #expect(error.description.contains(expected), "\(error.description)")
            }
            #expect((try? FileManager.default.contentsOfDirectory(atPath: target))?.isEmpty == true, "nothing written")
        }
        try await refused([("../evil.py", "x", nil)], "'..' component")
        try await refused([("/etc/evil", "x", nil)], "not a relative path")
        try await refused([("a/./b", "x", nil)], "component")
        try await refused([("a\\b", "x", nil)], "backslash")
        try await refused([("link", "/etc/passwd", 0o120777)], "symbolic link")
        try await refused([("app.py", "x", nil), ("app.py", "y", nil)], "appears twice")
        var small = ZipArchive.Limits()
        small.totalBytes = 1_000
        try await refused(
            [("big.bin", String(repeating: "0", count: 100_000), nil)], "more than 1000 bytes", limits: small)

        // Damage: a truncated archive, a flipped byte in deflated data (CRC or inflate), no end record at all.
        try await Self.pythonZip([("app.py", String(repeating: "abc", count: 1_000), nil)], at: root.path + "/ok.zip")
        let good = Array(try Data(contentsOf: URL(fileURLWithPath: root.path + "/ok.zip")))
        #expect(throws: ZipArchive.ZipError.self) { try ZipArchive.entries(Array(good.prefix(good.count / 2))) }
        var flipped = good
        flipped[40] ^= 0xFF
        #expect(throws: ZipArchive.ZipError.self) { try ZipArchive.entries(flipped) }
        #expect(throws: ZipArchive.ZipError.self) { try ZipArchive.entries(Array("not a zip at all".utf8)) }
        #expect(throws: ZipArchive.ZipError.self) { try ZipArchive.entries([]) }
        // A declared size smaller than the data inflates to: refused at the limit, not trusted.
        var lying = good
        let directory = try #require(Self.find([0x50, 0x4b, 0x01, 0x02], in: lying))
        lying[directory + 24] = 10
        lying[directory + 25] = 0
        lying[directory + 26] = 0
        lying[directory + 27] = 0
        #expect(throws: ZipArchive.ZipError.self) { try ZipArchive.entries(lying) }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<$0 + needle.count]) == needle }
    }
}
