import PlumbAuth
import PlumbIAM

extension ServerConfig {
    /// The `iam:` section: how platform users sign in (`plumb login`).
    public struct IAMSettings: Sendable, Decodable {
        /// Groups whose members must sign in with a TOTP code: their tokens from a sign-in without one, and tokens
        /// an admin made for them, only reach their own MFA enrolment. `["*"]`: every user. Empty: nobody.
        public var requireMFA: [String] = []
        /// Hours a token from `plumb login` lives.
        public var sessionHours: Double = 12
        /// Failed sign-ins before a user is locked out (30 s, doubling with each further failure, at most an hour).
        public var lockoutAfter = 5
        /// scrypt cost of platform users' passwords (N; r = 8, p = 1).
        public var scryptN = 1 << 15

        enum CodingKeys: String, CodingKey {
            case requireMFA = "require_mfa"
            case sessionHours = "session_hours"
            case lockoutAfter = "lockout_after"
            case scryptN = "scrypt_n"
        }

        public init() {}

        /// The rules `IAM` applies to sign-ins.
        public var signIn: SignInRules {
            SignInRules(scryptN: scryptN, lockoutAfter: lockoutAfter, sessionHours: sessionHours)
        }

        /// Whether this config requires the principal to have signed in with a code.
        public func requiresMFA(_ principal: IAMPrincipal) -> Bool {
            requireMFA.contains("*") || principal.groups.contains { requireMFA.contains($0) }
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if let one = try? c.decodeIfPresent(String.self, forKey: .requireMFA) {
                requireMFA = [one]
            } else {
                requireMFA = try c.decodeIfPresent([String].self, forKey: .requireMFA) ?? []
            }
            sessionHours = try c.decodeIfPresent(Double.self, forKey: .sessionHours) ?? sessionHours
            lockoutAfter = try c.decodeIfPresent(Int.self, forKey: .lockoutAfter) ?? lockoutAfter
            scryptN = try c.decodeIfPresent(Int.self, forKey: .scryptN) ?? scryptN
            guard sessionHours > 0, sessionHours <= 24 * 30 else {
                throw ConfigError("iam.session_hours must be from 0 to 720")
            }
            guard lockoutAfter >= 1 else { throw ConfigError("iam.lockout_after must be at least 1") }
            guard Scrypt.Parameters(n: scryptN, r: 8, p: 1).valid, scryptN >= 1 << 10 else {
                throw ConfigError("iam.scrypt_n must be a power of two from 1024 to 16777216")
            }
        }
    }
}
