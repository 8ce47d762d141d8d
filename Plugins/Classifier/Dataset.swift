import Foundation

/// A tabular data set from CSV: a header row, numeric feature columns and one label column.
public struct Dataset: Sendable {
    public var featureNames: [String]
    public var labelColumn: String
    public var rows: [[Double]]
    public var labels: [String]

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let message: String
        public var description: String { message }
    }

    public static let maxRows = 200_000
    public static let maxColumns = 1_000

    /// Parses CSV (RFC 4180 quoting, `,` separator, LF or CRLF). Every problem names its line and column.
    /// - Parameter label: the label column's name; nil parses features only (batch prediction input).
    public static func parse(_ text: String, label: String?, expectedFeatures: [String]? = nil) throws -> Dataset {
        var lines = try records(text)
        while let last = lines.last, last.count == 1, last[0].isEmpty { lines.removeLast() }
        guard let header = lines.first else {
            throw ParseError(message: "the CSV is empty; the first row must name the columns")
        }
        let names = header.map { $0.trimmingCharacters(in: .whitespaces) }
        guard names.count <= maxColumns else { throw ParseError(message: "more than \(maxColumns) columns") }
        if let duplicate = Dictionary(grouping: names, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw ParseError(message: "line 1: column '\(duplicate)' appears twice")
        }
        if let empty = names.firstIndex(of: "") { throw ParseError(message: "line 1: column \(empty + 1) has no name") }
        var labelIndex: Int?
        if let label {
            guard let i = names.firstIndex(of: label) else {
                throw ParseError(
                    message: "no label column '\(label)' in the header (columns: \(names.joined(separator: ", ")))")
            }
            labelIndex = i
        }
        let featureNames = names.enumerated().filter { $0.offset != labelIndex }.map(\.element)
        if let expected = expectedFeatures, featureNames != expected {
            throw ParseError(
                message:
                    "line 1: the columns must be the model's features \(expected.joined(separator: ", ")); got \(featureNames.map { String($0.prefix(64)) }.joined(separator: ", "))"
            )
        }
        guard !featureNames.isEmpty else { throw ParseError(message: "there are no feature columns besides the label") }
        guard lines.count - 1 <= maxRows else { throw ParseError(message: "more than \(maxRows) rows") }
        var rows: [[Double]] = []
        var labels: [String] = []
        rows.reserveCapacity(lines.count - 1)
        for (offset, record) in lines.dropFirst().enumerated() {
            let line = offset + 2
            guard record.count == names.count else {
                throw ParseError(message: "line \(line): \(record.count) fields, the header has \(names.count)")
            }
            var row: [Double] = []
            row.reserveCapacity(featureNames.count)
            for (column, field) in record.enumerated() {
                if column == labelIndex {
                    let value = field.trimmingCharacters(in: .whitespaces)
                    guard !value.isEmpty else {
                        throw ParseError(message: "line \(line): the label '\(names[column])' is missing")
                    }
                    labels.append(value)
                } else {
                    guard let value = Double(field.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                        throw ParseError(
                            message:
                                "line \(line), column '\(names[column])': '\(field.prefix(40))' is not a finite number")
                    }
                    row.append(value)
                }
            }
            rows.append(row)
        }
        guard !rows.isEmpty else { throw ParseError(message: "the CSV has a header but no rows") }
        return Dataset(featureNames: featureNames, labelColumn: label ?? "", rows: rows, labels: labels)
    }

    /// Splits CSV text into records of fields.
    static func records(_ text: String) throws -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var line = 1
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func nextScalar() -> Unicode.Scalar? {
            if let p = pending {
                pending = nil
                return p
            }
            return iterator.next()
        }
        var atFieldStart = true
        while let c = nextScalar() {
            if quoted {
                if c == "\"" {
                    if let n = nextScalar() {
                        if n == "\"" {
                            field.unicodeScalars.append("\"")
                        } else {
                            quoted = false
                            pending = n
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where atFieldStart:
                quoted = true
                atFieldStart = false
            case ",":
                record.append(field)
                field = ""
                atFieldStart = true
            case "\r":
                continue
            case "\n":
                record.append(field)
                records.append(record)
                record = []
                field = ""
                atFieldStart = true
                line += 1
            default:
                field.unicodeScalars.append(c)
                atFieldStart = false
            }
        }
        if quoted { throw ParseError(message: "line \(line): a quoted field is not closed") }
        if !field.isEmpty || !record.isEmpty {
            record.append(field)
            records.append(record)
        }
        return records
    }
}
