import Crypto
import Foundation

/// The admin's AWS access key: what the AWS SDKs and the aws CLI sign with to reach Plumb as the admin token does.
///
/// It is derived from the admin token (so every node of a cluster sharing the token accepts the same key, and there
/// is no second secret to keep), and written on every start to `aws.credentials` in the data directory (mode 0600),
/// in the AWS shared-credentials format under the profile `plumb`, with `aws.config` naming its region.
enum AWSAdminKey {
    static let credentialsFile = "aws.credentials"
    static let configFile = "aws.config"
    static let profile = "plumb"

    struct Key: Equatable {
        var id: String
        var secret: String
    }

    /// The key of `token`: an id of 20 characters (`PKIA` and 16 of base-32, as AWS's `AKIA…` ids look) and a
    /// 40-character secret, both HMAC-SHA256 of the token.
    static func derive(token: String) -> Key {
        derive(token: token, prefix: "PKIA", idLabel: "plumb aws access key id", secretLabel: "plumb aws secret key")
    }

    /// The key a Lambda handler's runtime signs with (`AWS_ACCESS_KEY_ID`): `PKLF…`, derived from the token and the
    /// function's name, so no secret is stored and every node derives the same. It acts as the function's `role`.
    static func derive(token: String, function: String) -> Key {
        derive(
            token: token, prefix: "PKLF", idLabel: "plumb lambda access key id " + function,
            secretLabel: "plumb lambda secret key " + function)
    }

    private static func derive(token: String, prefix: String, idLabel: String, secretLabel: String) -> Key {
        let key = SymmetricKey(data: Array(token.utf8))
        let idBytes = Array(HMAC<SHA256>.authenticationCode(for: Array(idLabel.utf8), using: key))
        let secretBytes = Array(HMAC<SHA256>.authenticationCode(for: Array(secretLabel.utf8), using: key))
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let id = prefix + String(idBytes.prefix(16).map { alphabet[Int($0 % 32)] })
        let secret = String(Data(secretBytes).base64EncodedString().prefix(40))
        return Key(id: id, secret: secret)
    }

    /// Writes the profile files (0600) when they are missing or hold another key.
    static func write(_ key: Key, region: String, dataDirectory: String) throws {
        let files = [
            (
                credentialsFile,
                "[\(profile)]\naws_access_key_id = \(key.id)\naws_secret_access_key = \(key.secret)\n"
            ),
            (configFile, "[profile \(profile)]\nregion = \(region)\noutput = json\n"),
        ]
        for (name, text) in files {
            let path = dataDirectory + "/" + name
            if (try? String(contentsOfFile: path, encoding: .utf8)) == text { continue }
            try? FileManager.default.removeItem(atPath: path)
            guard
                FileManager.default.createFile(
                    atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
            else { throw ConfigError("cannot write \(path)") }
        }
    }
}
