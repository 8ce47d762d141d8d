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

    /// The same, with the response's headers (lowercased names), for tests that check one (`Retry-After`); `headers`
    /// are sent with the request (`Accept: text/html`, as a browser).
    public static func exchange(
        _ method: String, _ url: String, body: [UInt8]? = nil, token: String? = nil,
        headers sent: [String: String] = [:],
        timeout: TimeInterval = 10
    ) async throws -> (status: Int, headers: [String: String], body: [UInt8]) {
        var request = URLRequest(url: URL(string: url)!, timeoutInterval: timeout)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (name, value) in sent { request.setValue(value, forHTTPHeaderField: name) }
        if let body { request.httpBody = Data(body) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return (http.statusCode, headers, Array(data))
    }
}
