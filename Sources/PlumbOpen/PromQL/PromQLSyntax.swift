/// A parsed PromQL expression, as Prometheus' grammar defines it (https://prometheus.io/docs/prometheus/latest/
/// querying/basics/): literals, vector and range selectors with their `offset` and `@` modifiers, subqueries,
/// aggregations with `by`/`without`, function calls, unary minus, and binary operators with `bool` and vector
/// matching. Times are milliseconds.
public indirect enum PromQLExpr: Sendable, Equatable {
    case number(Double)
    case string(String)
    case vector(VectorSelector)
    case matrix(VectorSelector, range: Int64)
    case subquery(PromQLExpr, range: Int64, step: Int64?, modifiers: Modifiers)
    case aggregate(AggregateOp, PromQLExpr, parameter: PromQLExpr?, grouping: Grouping?)
    case call(String, [PromQLExpr])
    case negate(PromQLExpr)
    case binary(BinaryOp, PromQLExpr, PromQLExpr, returnBool: Bool, matching: VectorMatching?)
    case paren(PromQLExpr)

    /// The type the expression evaluates to.
    public var type: ValueType {
        switch self {
        case .number: .scalar
        case .string: .string
        case .vector, .aggregate: .vector
        case .matrix, .subquery: .matrix
        case .call(let name, _): PromQLFunctions.returnType(name)
        case .negate(let e), .paren(let e): e.type
        case .binary(_, let a, let b, _, _): a.type == .scalar && b.type == .scalar ? .scalar : .vector
        }
    }
}

public enum ValueType: String, Sendable {
    case scalar, vector, matrix, string

    /// As Prometheus' messages name it.
    public var shown: String {
        switch self {
        case .scalar: "scalar"
        case .vector: "instant vector"
        case .matrix: "range vector"
        case .string: "string"
        }
    }
}

/// `offset` and `@` on a selector or subquery.
public struct Modifiers: Sendable, Equatable {
    /// Milliseconds subtracted from the evaluation time (negative: ahead).
    public var offset: Int64 = 0
    public var at: At?

    public enum At: Sendable, Equatable {
        case time(Int64)
        case start, end
    }

    public init(offset: Int64 = 0, at: At? = nil) {
        self.offset = offset
        self.at = at
    }
}

public struct VectorSelector: Sendable, Equatable {
    public var name: String?
    public var matchers: [LabelMatcher]
    public var modifiers: Modifiers

    public init(name: String?, matchers: [LabelMatcher], modifiers: Modifiers = Modifiers()) {
        self.name = name
        self.matchers = matchers
        self.modifiers = modifiers
    }
}

public struct LabelMatcher: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case equal = "="
        case notEqual = "!="
        case regex = "=~"
        case notRegex = "!~"
    }

    public var name: String
    public var kind: Kind
    public var value: String

    public init(_ name: String, _ kind: Kind, _ value: String) {
        self.name = name
        self.kind = kind
        self.value = value
    }
}

public enum AggregateOp: String, Sendable, CaseIterable {
    case sum, avg, min, max, count, stddev, stdvar, topk, bottomk, quantile
    case countValues = "count_values"
    case group

    /// Whether the aggregation takes a parameter before its expression (`topk(5, …)`).
    var takesParameter: Bool { [.topk, .bottomk, .quantile, .countValues].contains(self) }
}

public struct Grouping: Sendable, Equatable {
    public var without: Bool
    public var labels: [String]

    public init(without: Bool, labels: [String]) {
        self.without = without
        self.labels = labels
    }
}

public enum BinaryOp: String, Sendable, CaseIterable {
    case add = "+"
    case sub = "-"
    case mul = "*"
    case div = "/"
    case mod = "%"
    case pow = "^"
    case atan2
    case eq = "=="
    case ne = "!="
    case gt = ">"
    case lt = "<"
    case ge = ">="
    case le = "<="
    case and, or, unless

    /// Binding strength, lowest first: `or`; `and unless`; comparisons; `+ -`; `* / % atan2`; `^`.
    var precedence: Int {
        switch self {
        case .or: 1
        case .and, .unless: 2
        case .eq, .ne, .gt, .lt, .ge, .le: 3
        case .add, .sub: 4
        case .mul, .div, .mod, .atan2: 5
        case .pow: 6
        }
    }

    var isComparison: Bool { precedence == 3 }
    var isSetOperator: Bool { precedence <= 2 }
}

public struct VectorMatching: Sendable, Equatable {
    public enum Cardinality: Sendable, Equatable {
        case oneToOne, manyToOne, oneToMany
    }

    public var cardinality: Cardinality = .oneToOne
    /// `on(…)` when true, `ignoring(…)` when false.
    public var on = false
    public var labels: [String] = []
    /// `group_left(…)`/`group_right(…)`'s extra labels.
    public var include: [String] = []

    public init() {}
}

/// What the parser knows of functions: their argument types and what they return.
public enum PromQLFunctions {
    static let signatures: [String: (args: [ValueType], variadic: Int, returns: ValueType)] = [
        "abs": ([.vector], 0, .vector), "absent": ([.vector], 0, .vector),
        "absent_over_time": ([.matrix], 0, .vector), "ceil": ([.vector], 0, .vector),
        "changes": ([.matrix], 0, .vector), "clamp": ([.vector, .scalar, .scalar], 0, .vector),
        "clamp_max": ([.vector, .scalar], 0, .vector), "clamp_min": ([.vector, .scalar], 0, .vector),
        "day_of_month": ([.vector], 1, .vector), "day_of_week": ([.vector], 1, .vector),
        "day_of_year": ([.vector], 1, .vector), "days_in_month": ([.vector], 1, .vector),
        "delta": ([.matrix], 0, .vector), "deriv": ([.matrix], 0, .vector), "exp": ([.vector], 0, .vector),
        "floor": ([.vector], 0, .vector), "histogram_quantile": ([.scalar, .vector], 0, .vector),
        "holt_winters": ([.matrix, .scalar, .scalar], 0, .vector), "hour": ([.vector], 1, .vector),
        "idelta": ([.matrix], 0, .vector), "increase": ([.matrix], 0, .vector), "irate": ([.matrix], 0, .vector),
        "label_join": ([.vector, .string, .string, .string], -1, .vector),
        "label_replace": ([.vector, .string, .string, .string, .string], 0, .vector),
        "ln": ([.vector], 0, .vector), "log2": ([.vector], 0, .vector), "log10": ([.vector], 0, .vector),
        "minute": ([.vector], 1, .vector), "month": ([.vector], 1, .vector),
        "predict_linear": ([.matrix, .scalar], 0, .vector), "rate": ([.matrix], 0, .vector),
        "resets": ([.matrix], 0, .vector), "round": ([.vector, .scalar], 1, .vector),
        "scalar": ([.vector], 0, .scalar), "sgn": ([.vector], 0, .vector), "sort": ([.vector], 0, .vector),
        "sort_desc": ([.vector], 0, .vector), "sqrt": ([.vector], 0, .vector), "time": ([], 0, .scalar),
        "timestamp": ([.vector], 0, .vector), "vector": ([.scalar], 0, .vector), "year": ([.vector], 1, .vector),
        "avg_over_time": ([.matrix], 0, .vector), "min_over_time": ([.matrix], 0, .vector),
        "max_over_time": ([.matrix], 0, .vector), "sum_over_time": ([.matrix], 0, .vector),
        "count_over_time": ([.matrix], 0, .vector), "quantile_over_time": ([.scalar, .matrix], 0, .vector),
        "stddev_over_time": ([.matrix], 0, .vector), "stdvar_over_time": ([.matrix], 0, .vector),
        "last_over_time": ([.matrix], 0, .vector), "present_over_time": ([.matrix], 0, .vector),
        "pi": ([], 0, .scalar), "acos": ([.vector], 0, .vector), "asin": ([.vector], 0, .vector),
        "atan": ([.vector], 0, .vector), "cos": ([.vector], 0, .vector), "sin": ([.vector], 0, .vector),
        "tan": ([.vector], 0, .vector), "deg": ([.vector], 0, .vector), "rad": ([.vector], 0, .vector),
        "cosh": ([.vector], 0, .vector), "sinh": ([.vector], 0, .vector), "tanh": ([.vector], 0, .vector),
        "acosh": ([.vector], 0, .vector), "asinh": ([.vector], 0, .vector), "atanh": ([.vector], 0, .vector),
    ]

    public static func isFunction(_ name: String) -> Bool { signatures[name] != nil }

    static func returnType(_ name: String) -> ValueType { signatures[name]?.returns ?? .vector }
}
