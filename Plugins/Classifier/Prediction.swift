import Foundation
import GRDB
import Logging
import Metrics
import PlumbKit
import Synchronization

// Prediction
extension ClassifierPlugin {
    func activeModel(_ request: FunctionRequest) throws -> (name: String, version: Int, model: BoostedModel) {
        let name = request.query["model"] ?? "iris"
        guard Self.validName(name) else { throw FunctionError.badRequest("'model' is not a valid model name") }
        guard let (version, model) = cache.active(name) else {
            throw FunctionError(
                status: 404, code: "ModelNotFound",
                message: "no active model named '\(name)'; train one with POST /apps/classifier/train")
        }
        return (name, version, model)
    }

    /// The feature vector of a JSON object in the model's feature order; unknown, missing or non-numeric values are 400s.
    static func vector(_ body: [UInt8], features: [String]) throws -> [Double] {
        let object: [String: Double]
        do {
            object = try JSONDecoder().decode([String: Double].self, from: Data(body))
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            let name = context.codingPath.last?.stringValue ?? "?"
            throw FunctionError.badRequest("feature '\(name)' must be a finite number")
        } catch {
            throw FunctionError.badRequest(
                "the body must be a JSON object of features, e.g. {\"x1\": 6.7, \"x2\": 3.3, \"x3\": 5.7, \"x4\": 2.5}")
        }
        if let unknown = object.keys.filter({ !features.contains($0) }).sorted().first {
            throw FunctionError.badRequest(
                "unknown feature '\(unknown)'; the model takes \(features.joined(separator: ", "))")
        }
        return try features.map { name in
            guard let value = object[name] else {
                throw FunctionError.badRequest(
                    "feature '\(name)' is missing; the model takes \(features.joined(separator: ", "))")
            }
            guard value.isFinite else { throw FunctionError.badRequest("feature '\(name)' must be a finite number") }
            return value
        }
    }

    func predict(_ request: FunctionRequest) async throws -> FunctionResponse {
        let started = DispatchTime.now().uptimeNanoseconds
        let (name, version, model) = try activeModel(request)
        let x = try Self.vector(request.body, features: model.features)
        let probabilities = model.probabilities(x)
        var best = 0
        for c in probabilities.indices where probabilities[c] > probabilities[best] { best = c }
        let label = model.classes[best]
        let now = Date().timeIntervalSince1970
        // Hand-built JSON: this is the hot path (JSONSerialization costs more than the model).
        let input = Self.jsonObject(keys: model.features, values: x.map { "\($0)" })
        let probabilitiesText = Self.jsonObject(
            keys: model.classes, values: probabilities.map { "\(($0 * 1e6).rounded() / 1e6)" })
        let id = try await writer.insert(
            .init(
                model: name, version: version, input: input, label: label, probabilities: probabilitiesText,
                timestamp: now))
        instruments.predicted(
            model: name, label: label, nanoseconds: Int64(DispatchTime.now().uptimeNanoseconds - started))
        var body = "{\"id\":\(id),\"label\":"
        Self.appendString(label, to: &body)
        body += ",\"model\":"
        Self.appendString(name, to: &body)
        body +=
            ",\"prediction\":\(best),\"probabilities\":\(probabilitiesText),\"timestamp\":\"\(RFC3339.format(now))\",\"version\":\(version)}"
        return FunctionResponse(status: 200, headers: ["content-type": "application/json"], body: Array(body.utf8))
    }

    /// `{"k1":v1,...}` with string keys and already-formatted JSON values.
    static func jsonObject(keys: [String], values: [String]) -> String {
        var out = "{"
        for (i, key) in keys.enumerated() {
            if i > 0 { out += "," }
            appendString(key, to: &out)
            out += ":" + values[i]
        }
        return out + "}"
    }

    static func appendString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    func predictBatch(_ request: FunctionRequest) async throws -> FunctionResponse {
        let (name, version, model) = try activeModel(request)
        let dataset: Dataset
        do {
            dataset = try Dataset.parse(
                String(decoding: request.body, as: UTF8.self), label: nil, expectedFeatures: model.features)
        } catch let error as Dataset.ParseError {
            throw FunctionError.badRequest(error.message)
        }
        guard dataset.rows.count <= Self.maxBatchRows else {
            throw FunctionError(
                status: 413, code: "TooManyRows", message: "at most \(Self.maxBatchRows) rows per batch")
        }
        let now = Date().timeIntervalSince1970
        var pending: [PredictionWriter.Pending] = []
        var results: [[String: Any]] = []
        for x in dataset.rows {
            let p = model.probabilities(x)
            var best = 0
            for c in p.indices where p[c] > p[best] { best = c }
            let probabilities = Dictionary(
                uniqueKeysWithValues: zip(model.classes, p.map { ($0 * 1e6).rounded() / 1e6 }))
            let input = String(
                decoding: try JSONSerialization.data(
                    withJSONObject: Dictionary(uniqueKeysWithValues: zip(model.features, x)), options: [.sortedKeys]),
                as: UTF8.self)
            pending.append(
                .init(
                    model: name, version: version, input: input, label: model.classes[best],
                    probabilities: String(
                        decoding: try JSONSerialization.data(withJSONObject: probabilities, options: [.sortedKeys]),
                        as: UTF8.self),
                    timestamp: now))
            results.append(["prediction": best, "label": model.classes[best], "probabilities": probabilities])
            Counter(
                label: "Plumb/Classifier/Predictions", dimensions: [("Model", name), ("Class", model.classes[best])]
            ).increment()
            Counter(label: "Plumb/Classifier/Predictions", dimensions: [("Model", name)]).increment()
        }
        let ids = try await writer.insertAll(pending)
        for i in results.indices { results[i]["id"] = ids[i] }
        return Self.json(["model": name, "version": version, "timestamp": Self.isoTime(now), "predictions": results])
    }

    static func time(_ text: String?, name: String) throws -> Double? {
        guard let text else { return nil }
        if let seconds = Double(text) ?? RFC3339.parse(text) { return seconds }
        throw FunctionError.badRequest("'\(name)' must be epoch seconds or an RFC 3339 time")
    }

    func predictions(_ request: FunctionRequest) async throws -> FunctionResponse {
        let model = request.query["model"] ?? "iris"
        guard Self.validName(model) else { throw FunctionError.badRequest("'model' is not a valid model name") }
        let start = try Self.time(request.query["start"], name: "start") ?? 0
        let end = try Self.time(request.query["end"], name: "end") ?? Double.greatestFiniteMagnitude
        guard start <= end else { throw FunctionError.badRequest("'start' is after 'end'") }
        let limit = try request.intQuery("limit", default: 100, range: 1...1_000)
        let after = Int64(try request.intQuery("after", default: 0, range: 0...Int.max))
        let rows = try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM predictions WHERE model = ? AND ts >= ? AND ts <= ? AND id > ? ORDER BY id LIMIT ?
                    """, arguments: [model, start, end, after, limit + 1])
        }
        let items: [[String: Any]] = rows.prefix(limit).map { row in
            [
                "id": row["id"] as Int64, "model": row["model"] as String, "version": row["version"] as Int,
                "label": row["label"] as String,
                "input": (try? JSONSerialization.jsonObject(with: Data((row["input"] as String).utf8))) ?? [:],
                "probabilities": (try? JSONSerialization.jsonObject(with: Data((row["probabilities"] as String).utf8)))
                    ?? [:],
                "timestamp": Self.isoTime(row["ts"]),
            ]
        }
        var body: [String: Any] = ["items": items]
        body["next"] = rows.count > limit ? (items.last?["id"] ?? NSNull()) : NSNull()
        return Self.json(body)
    }
}
