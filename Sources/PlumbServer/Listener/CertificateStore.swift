import Crypto
import Foundation
import NIOSSL
import Synchronization

/// The listener's certificate: the TLS context every new connection starts its handshake with, replaced whole when
/// the files are read again (SIGHUP).
///
/// A connection keeps the context it started with, so a reload drops nothing: connections opened before it go on
/// with the old certificate, new ones present the new one. A reload that fails (a missing file, a key that does not
/// match, certbot caught half-way) changes nothing.
public final class CertificateStore: Sendable {
    /// What was loaded, for the logs.
    public struct Loaded: Sendable, Equatable {
        /// Certificates in the chain (leaf first).
        public let chainLength: Int
        /// The leaf's notAfter, seconds since the epoch.
        public let notValidAfter: Int
        /// The leaf's SHA-256 fingerprint, hex: what `openssl x509 -fingerprint -sha256` prints, without colons.
        public let fingerprint: String
    }

    public let settings: ServerConfig.TLSSettings
    private let state: Mutex<(context: NIOSSLContext, loaded: Loaded)>

    /// Reads both files; a problem is a `ConfigError` naming the key and the file.
    public init(settings: ServerConfig.TLSSettings) throws {
        self.settings = settings
        state = Mutex(try Self.load(settings))
    }

    /// The context for a new connection.
    var context: NIOSSLContext { state.withLock { $0.context } }

    /// The certificate in use.
    public var loaded: Loaded { state.withLock { $0.loaded } }

    /// Reads the files again and, if they make a working context, uses it for new connections; otherwise throws and
    /// the current certificate stays.
    @discardableResult
    public func reload() throws -> Loaded {
        let fresh = try Self.load(settings)
        state.withLock { $0 = fresh }
        return fresh.loaded
    }

    /// The TLS protocols offered by ALPN, preferred first.
    static func alpnProtocols(http2: Bool) -> [String] { http2 ? ["h2", "http/1.1"] : ["http/1.1"] }

    private static func load(_ settings: ServerConfig.TLSSettings) throws -> (context: NIOSSLContext, loaded: Loaded) {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(try read(settings.certFile, key: "cert_file"))
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError("tls.cert_file: \(settings.certFile) holds no PEM certificate (\(error))")
        }
        guard let leaf = chain.first else {
            throw ConfigError("tls.cert_file: \(settings.certFile) holds no PEM certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: try read(settings.keyFile, key: "key_file"), format: .pem)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError("tls.key_file: \(settings.keyFile) holds no PEM private key (\(error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.applicationProtocols = alpnProtocols(http2: settings.http2)
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigError(
                "tls: the key in \(settings.keyFile) does not fit the certificate in \(settings.certFile) (\(error))")
        }
        let der = (try? leaf.toDERBytes()) ?? []
        let loaded = Loaded(
            chainLength: chain.count, notValidAfter: Int(leaf.notValidAfter),
            fingerprint: SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined())
        return (context, loaded)
    }

    private static func read(_ path: String, key: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"
            throw ConfigError("tls.\(key): cannot read \(path): \(reason)")
        }
        defer { try? handle.close() }
        let data = (try? handle.readToEnd()) ?? Data()
        guard !data.isEmpty else { throw ConfigError("tls.\(key): \(path) is empty") }
        return Array(data)
    }
}
