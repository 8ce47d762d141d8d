import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A minimal HTTP client for tests that talk to a real server process.
public enum HTTP {
    public static func request(
        _ method: String, _ url: String, body: [UInt8]? = nil, token: String? = nil, timeout: TimeInterval = 10
    ) async throws -> (Int, [UInt8]) {
        var request = URLRequest(url: URL(string: url)!, timeoutInterval: timeout)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body { request.httpBody = Data(body) }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as! HTTPURLResponse).statusCode, Array(data))
    }
}
