import Foundation
import Logging

extension PlumbServer {
    /// Reads the TLS certificate and key again (SIGHUP). New connections get the new certificate; open ones keep
    /// theirs. A failure is logged and the certificate in use stays.
    public func reloadCertificate() {
        guard let certificates else { return }
        do {
            logCertificate(try certificates.reload(), event: "TLS certificate reloaded")
        } catch {
            logger.error(
                "SIGHUP: TLS certificate not reloaded, the previous one stays: \(error)",
                metadata: [
                    "cert_file": "\(certificates.settings.certFile)", "key_file": "\(certificates.settings.keyFile)",
                ])
        }
    }

    func logCertificate(_ loaded: CertificateStore.Loaded, event: Logger.Message) {
        let expires = Date(timeIntervalSince1970: TimeInterval(loaded.notValidAfter))
        logger.info(
            event,
            metadata: [
                "sha256": "\(loaded.fingerprint)", "chain": "\(loaded.chainLength)",
                "not_after": "\(ISO8601DateFormatter().string(from: expires))",
                "days_left": "\(Int(expires.timeIntervalSinceNow / 86_400))",
            ])
    }
}
