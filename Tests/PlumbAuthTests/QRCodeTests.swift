import Foundation
import PlumbAuth
import PlumbTesting
import Testing

/// The QR encoder against an independent one: Python's `qrcode` package, given the same bytes, version, level and
/// mask, must draw exactly the same modules. Every version 1–13 at every level, with masks cycling through 0–7.
@Suite("QR codes")
struct QRCodeTests {
    static let levels: [(QRCode.Correction, String)] = [(.low, "L"), (.medium, "M"), (.quartile, "Q"), (.high, "H")]

    @Test("modules equal Python qrcode's for versions 1–13, all four levels, all eight masks")
    func matchesPythonQRCode() async throws {
        var cases: [(data: String, version: Int, level: Int, mask: Int)] = []
        for version in 1...13 {
            for level in 0..<4 {
                let (correction, _) = Self.levels[level]
                // As many bytes as the version holds at this level, less a few, so every version is filled.
                let capacity = QRCode.byteCapacity(version: version, correction: correction)
                let n = max(1, capacity - (version + level) % 3)
                let uri = Array("otpauth://totp/Plumb:ana@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Plumb&")
                let data = String((0..<n).map { uri[$0 % uri.count] })
                cases.append((data, version, level, (version * 4 + level) % 8))
            }
        }
        let input = try JSONSerialization.data(
            withJSONObject: cases.map {
                ["data": $0.data, "version": $0.version, "level": Self.levels[$0.level].1, "mask": $0.mask]
            })
        let script = """
            import json, sys, qrcode, qrcode.util, qrcode.constants
            levels = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M, "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}
            out = []
            for c in json.load(sys.stdin):
                qr = qrcode.QRCode(version=c["version"], error_correction=levels[c["level"]], border=0, mask_pattern=c["mask"])
                qr.add_data(qrcode.util.QRData(c["data"].encode(), mode=qrcode.util.MODE_8BIT_BYTE), optimize=0)
                qr.make(fit=False)
                out.append(["".join("1" if m else "0" for m in row) for row in qr.modules])
            print(json.dumps(out))
            """
        let run = try await Subprocess.run(
            "/usr/bin/env", ["python3", "-c", script], input: input, separateErrors: true)
        try #require(run.status == 0, "python qrcode (scripts/setup.sh installs it): \(run.errors)")
        let theirs = try #require(try JSONSerialization.jsonObject(with: run.output) as? [[String]])
        try #require(theirs.count == cases.count)
        var mismatches: [String] = []
        for (c, expected) in zip(cases, theirs) {
            let ours = try QRCode(
                Array(c.data.utf8), correction: Self.levels[c.level].0, version: c.version, mask: c.mask)
            let rows = ours.modules.map { row in String(row.map { $0 ? "1" : "0" }) }
            if rows != expected {
                mismatches.append(
                    "version \(c.version) \(Self.levels[c.level].1) mask \(c.mask) (\(c.data.utf8.count) bytes)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    @Test("the smallest version that holds the data; too long is a clear error; the terminal text is square")
    func sizesAndErrors() throws {
        let uri =
            "otpauth://totp/Plumb:ana%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Plumb&algorithm=SHA1&digits=6&period=30"
        let code = try QRCode(uri)
        let n = uri.utf8.count
        #expect(n == 125 && code.version == 8 && code.size == 49, "\(n) bytes: version \(code.version)")
        #expect(
            QRCode.byteCapacity(version: 7, correction: .medium) < n
                && QRCode.byteCapacity(version: 8, correction: .medium) >= n)
        #expect(throws: QRCode.Failure.tooLong(bytes: 400, maximum: 331)) {
            try QRCode(Array(repeating: 0x41, count: 400))
        }
        #expect(throws: QRCode.Failure.badVersion(14)) { try QRCode([1], version: 14) }
        let text = code.terminalText(colours: false)
        let lines = text.split(separator: "\n")
        #expect(lines.count == (49 + 8 + 1) / 2)
        #expect(lines.allSatisfy { $0.count == 49 + 8 })
        // The quiet zone is light: with light-on-dark drawing its first line is all full blocks.
        #expect(lines[0].allSatisfy { $0 == "█" })
        let coloured = code.terminalText(colours: true)
        #expect(coloured.hasPrefix("\u{1B}[30;107m") && coloured.contains("\u{1B}[0m"))
        // ASCII (a locale without UTF-8): a module row per line, a drawn module as "##"; read back, it is the code.
        let ascii = code.terminalText(colours: false, lightOnDark: false, unicode: false).split(
            separator: "\n", omittingEmptySubsequences: false
        ).dropLast()
        #expect(
            ascii.count == 49 + 8
                && ascii.allSatisfy { $0.count == 2 * (49 + 8) && $0.allSatisfy { $0 == "#" || $0 == " " } })
        let readBack = ascii.dropFirst(4).prefix(49).map { line in
            stride(from: 8, to: 8 + 2 * 49, by: 2).map { line[line.index(line.startIndex, offsetBy: $0)] == "#" }
        }
        #expect(readBack == code.modules)
    }
}
