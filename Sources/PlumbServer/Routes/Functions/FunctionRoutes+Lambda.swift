import Foundation
import Hummingbird
import PlumbAPI
import PlumbHost

/// Lambda handlers made, changed and deleted through the API (admin token only: a handler is code run on the host).
extension FunctionRoutes {
    /// A zip of 50 MB in base64, and the JSON around it.
    static let maxDefinitionBody = 70 * 1_048_576

    /// `PUT /api/v1/functions/{name}`: makes the handler (201) or changes one made through the API (200). With
    /// `If-None-Match: *` it only makes one (409 when the name is taken); with `If-Match: *` it only changes one
    /// (404 when there is none).
    @Sendable func putLambda(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        let body = try await request.collectBody(limit: Self.maxDefinitionBody)
        let input: LambdaHandlerRequest
        do {
            input = try JSONDecoder().decode(LambdaHandlerRequest.self, from: Data(body))
        } catch {
            throw APIError(
                code: "InvalidParameterValueException",
                "body must be {\"runtime\", \"handler\", \"zipFile\" (base64), \"environment\", \"timeout\", \"memoryMB\", \"role\", \"description\"}"
            )
        }
        var zip: [UInt8]?
        if let text = input.zipFile {
            guard let bytes = Data(base64Encoded: text) else {
                throw APIError(code: "InvalidParameterValueException", "zipFile must be base64")
            }
            zip = Array(bytes)
        }
        let exists = host.function(named: name) != nil
        if request.headers[.ifNoneMatch] == "*", exists {
            throw APIError(status: 409, code: "ResourceConflictException", "Function already exist: \(name)")
        }
        if request.headers[.ifMatch] == "*", !exists {
            throw APIError(status: 404, code: "ResourceNotFoundException", "no function named '\(name)'")
        }
        let role = input.role.map { $0.isEmpty ? nil : $0 }
        if exists {
            _ = try await lambdaFunctions.update(
                name,
                LambdaFunctions.Changes(
                    runtimeName: input.runtime, handler: input.handler, timeout: input.timeout,
                    memoryMB: input.memoryMB, role: role, environment: input.environment,
                    description: input.description),
                zip: zip)
            return try Response.json(describe(try function(context)))
        }
        guard let runtime = input.runtime, let handler = input.handler, let zip else {
            throw APIError(
                code: "InvalidParameterValueException", "making a function needs runtime, handler and zipFile")
        }
        var spec = LambdaFunctions.Spec(runtimeName: runtime, handler: handler)
        spec.timeout = input.timeout ?? spec.timeout
        spec.memoryMB = input.memoryMB ?? spec.memoryMB
        spec.role = role ?? nil
        spec.environment = input.environment ?? [:]
        spec.description = input.description ?? ""
        _ = try await lambdaFunctions.create(name, spec, zip: zip)
        return try Response.json(describe(try function(context)), status: .created)
    }

    /// `DELETE /api/v1/functions/{name}`: deletes a handler made through the API (204).
    @Sendable func deleteLambda(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try await lambdaFunctions.delete(context.parameters.get("name") ?? "")
        return Response(status: .noContent)
    }
}
