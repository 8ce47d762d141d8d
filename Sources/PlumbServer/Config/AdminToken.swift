import Foundation

/// The admin token every `/api/v1/*` and `/write` request must carry as `Authorization: Bearer <token>`.
///
/// It comes from the environment variable the config names, else from `admin.token` in the data directory,
/// which is created (mode 0600, 32 random bytes, hex) on first start. The token is never logged.
public enum AdminToken {
    public static let fileName = "admin.token"

    public static func load(dataDirectory: String, environmentVariable: String?) throws -> String {
        if let name = environmentVariable {
            guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
                throw ConfigError("admin_token_env names \(name), but that environment variable is not set")
            }
            return value
        }
        let path = dataDirectory + "/" + fileName
        if let existing = try? String(contentsOfFile: path, encoding: .utf8) {
            let token = existing.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw ConfigError("\(path) is empty; delete it to have a new token created") }
            return token
        }
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        // SystemRandomNumberGenerator reads getrandom(2): cryptographically secure on Linux.
        var generator = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw ConfigError("cannot write \(path)")
        }
        return token
    }

    /// Compares in time independent of where the strings differ.
    public static func matches(_ presented: Substring, _ expected: String) -> Bool {
        let a = Array(presented.utf8)
        let b = Array(expected.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<b.count { difference |= (i < a.count ? a[i] : 0) ^ b[i] }
        return difference == 0
    }
}
