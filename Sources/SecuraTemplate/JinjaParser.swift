// Recursive-descent parser for the Jinja subset chat templates use. Precedence follows Jinja's parser,
// lowest first: `x if c else y`; `or`; `and`; `not`; comparisons and `in`/`not in`; `+ -`; `~`;
// `* / // %`; `**`; unary `-`; then primaries with postfix `.attr`, `[item]`, `[a:b:c]`, `(call)`,
// and filters `| f(...)` and tests `is [not] t ...`, which bind tighter than any binary operator
// (`'a' + x | trim` is `'a' + (x | trim)`). Statements other than if/elif/else, for/else, set (also
// the block form), macro, break, continue and transformers' generation (block, include, import,
// call, filter, raw, with, ...) are refused by name.

struct JinjaParser {
    let tokens: [Token]
    var i = 0
    let name: String

    init(tokens: [Token], name: String) {
        self.tokens = tokens
        self.name = name
    }

    static func parse(_ tokens: [Token], name: String) throws -> [Node] {
        var parser = JinjaParser(tokens: tokens, name: name)
        let (nodes, end) = try parser.statements(until: [])
        if let end { throw parser.syntax("unexpected '{% \(end) %}'") }
        return nodes
    }

    // MARK: Tokens

    var line: Int { i < tokens.count ? tokens[i].line : (tokens.last?.line ?? 1) }
    var peek: TokenKind? { i < tokens.count ? tokens[i].kind : nil }
    func peek(_ offset: Int) -> TokenKind? { i + offset < tokens.count ? tokens[i + offset].kind : nil }

    func syntax(_ message: String) -> JinjaError { .syntax(template: name, line: line, message: message) }

    mutating func next() throws -> TokenKind {
        guard i < tokens.count else { throw syntax("unexpected end of template") }
        i += 1
        return tokens[i - 1].kind
    }

    mutating func accept(_ kind: TokenKind) -> Bool {
        if peek == kind { i += 1; return true }
        return false
    }

    mutating func expect(_ kind: TokenKind, _ what: String) throws {
        guard accept(kind) else { throw syntax("expected \(what)") }
    }

    func isName(_ word: String) -> Bool { peek == .name(word) }

    mutating func identifier() throws -> String {
        guard case let .name(n)? = peek else { throw syntax("expected a name") }
        i += 1
        return n
    }

    // MARK: Statements

    /// Parses nodes up to a block whose keyword is in `ends`; returns that keyword (consumed up to
    /// the keyword, not the rest of its tag), or nil at the end of the template.
    mutating func statements(until ends: Set<String>) throws -> ([Node], String?) {
        var nodes: [Node] = []
        while let kind = peek {
            switch kind {
            case let .text(t):
                i += 1
                nodes.append(.text(t))
            case .variableBegin:
                i += 1
                let e = try expression()
                try expect(.variableEnd, "'}}'")
                nodes.append(.output(e))
            case .blockBegin:
                let tagLine = line
                i += 1
                let keyword = try identifier()
                if ends.contains(keyword) { return (nodes, keyword) }
                nodes.append(try statement(keyword, line: tagLine))
            default:
                throw syntax("unexpected token")
            }
        }
        return (nodes, nil)
    }

    mutating func statement(_ keyword: String, line tagLine: Int) throws -> Node {
        switch keyword {
        case "if":
            var branches: [(Expr, [Node])] = []
            var condition = try expression()
            while true {
                try expect(.blockEnd, "'%}'")
                let (body, end) = try statements(until: ["elif", "else", "endif"])
                branches.append((condition, body))
                switch end {
                case "elif": condition = try expression()
                case "else":
                    try expect(.blockEnd, "'%}'")
                    let (otherwise, close) = try statements(until: ["endif"])
                    guard close != nil else { throw syntax("missing '{% endif %}'") }
                    try expect(.blockEnd, "'%}'")
                    return .conditional(branches, otherwise: otherwise)
                case "endif":
                    try expect(.blockEnd, "'%}'")
                    return .conditional(branches, otherwise: [])
                default: throw syntax("missing '{% endif %}' for the if on line \(tagLine)")
                }
            }
        case "for":
            var targets = [try identifier()]
            while accept(.op(",")) { targets.append(try identifier()) }
            guard accept(.name("in")) else { throw syntax("expected 'in' in a for loop") }
            let iterable = try orExpression()
            let filter = accept(.name("if")) ? try orExpression() : nil
            if isName("recursive") { throw JinjaError.unsupported(template: name, line: tagLine, construct: "a recursive for loop") }
            try expect(.blockEnd, "'%}'")
            let (body, end) = try statements(until: ["else", "endfor"])
            var otherwise: [Node] = []
            if end == "else" {
                try expect(.blockEnd, "'%}'")
                let (elseBody, close) = try statements(until: ["endfor"])
                guard close != nil else { throw syntax("missing '{% endfor %}'") }
                otherwise = elseBody
            } else if end == nil {
                throw syntax("missing '{% endfor %}' for the for on line \(tagLine)")
            }
            try expect(.blockEnd, "'%}'")
            return .loop(targets: targets, iterable: iterable, filter: filter, body: body, otherwise: otherwise, line: tagLine)
        case "set":
            let first = try identifier()
            var target = SetTarget.name(first)
            if accept(.op(".")) { target = .attribute(first, try identifier()) }
            if peek == .op(",") {
                throw JinjaError.unsupported(template: name, line: tagLine, construct: "'set' with several targets")
            }
            guard accept(.op("=")) else {
                guard case .name = target, peek == .blockEnd else {
                    throw JinjaError.unsupported(template: name, line: tagLine, construct: "a block 'set' with a filter or attribute target")
                }
                i += 1
                let (body, end) = try statements(until: ["endset"])
                guard end != nil else { throw syntax("missing '{% endset %}' for the set on line \(tagLine)") }
                try expect(.blockEnd, "'%}'")
                return .captureSet(name: first, body: body)
            }
            let value = try expression()
            try expect(.blockEnd, "'%}'")
            return .set(target, value, line: tagLine)
        case "macro":
            let macroName = try identifier()
            try expect(.op("("), "'(' after the macro name")
            var parameters: [(String, Expr?)] = []
            while !accept(.op(")")) {
                let parameter = try identifier()
                parameters.append((parameter, accept(.op("=")) ? try expression() : nil))
                if !accept(.op(",")) { try expect(.op(")"), "')'"); break }
            }
            try expect(.blockEnd, "'%}'")
            let (body, end) = try statements(until: ["endmacro"])
            guard end != nil else { throw syntax("missing '{% endmacro %}' for the macro on line \(tagLine)") }
            if case .name? = peek { i += 1 }   // `{% endmacro name %}`
            try expect(.blockEnd, "'%}'")
            return .macro(name: macroName, parameters: parameters, body: body, line: tagLine)
        case "generation":
            try expect(.blockEnd, "'%}'")
            let (body, end) = try statements(until: ["endgeneration"])
            guard end != nil else { throw syntax("missing '{% endgeneration %}' for the generation on line \(tagLine)") }
            try expect(.blockEnd, "'%}'")
            return .group(body)
        case "break", "continue":
            try expect(.blockEnd, "'%}'")
            return keyword == "break" ? .breakLoop(line: tagLine) : .continueLoop(line: tagLine)
        default:
            throw JinjaError.unsupported(template: name, line: tagLine, construct: "the statement '{% \(keyword) %}'")
        }
    }

    // MARK: Expressions

    mutating func expression() throws -> Expr {
        let l = line
        let value = try orExpression()
        if accept(.name("if")) {
            let condition = try orExpression()
            let otherwise = accept(.name("else")) ? try expression() : nil
            return Expr(kind: .conditional(then: value, condition: condition, otherwise: otherwise), line: l)
        }
        return value
    }

    mutating func orExpression() throws -> Expr {
        var left = try andExpression()
        while accept(.name("or")) { left = Expr(kind: .or(left, try andExpression()), line: left.line) }
        return left
    }

    mutating func andExpression() throws -> Expr {
        var left = try notExpression()
        while accept(.name("and")) { left = Expr(kind: .and(left, try notExpression()), line: left.line) }
        return left
    }

    mutating func notExpression() throws -> Expr {
        let l = line
        if accept(.name("not")) { return Expr(kind: .not(try notExpression()), line: l) }
        return try comparison()
    }

    mutating func comparison() throws -> Expr {
        var left = try binary(level: 0)
        while true {
            if case let .op(op)? = peek, ["==", "!=", "<", "<=", ">", ">="].contains(op) {
                i += 1
                left = Expr(kind: .binary(op, left, try binary(level: 0)), line: left.line)
            } else if accept(.name("in")) {
                left = Expr(kind: .binary("in", left, try binary(level: 0)), line: left.line)
            } else if isName("not"), peek(1) == .name("in") {
                i += 2
                left = Expr(kind: .not(Expr(kind: .binary("in", left, try binary(level: 0)), line: left.line)), line: left.line)
            } else {
                return left
            }
        }
    }

    static let levels: [[String]] = [["+", "-"], ["~"], ["*", "/", "//", "%"], ["**"]]

    mutating func binary(level: Int) throws -> Expr {
        guard level < Self.levels.count else { return try unary() }
        var left = try binary(level: level + 1)
        while case let .op(op)? = peek, Self.levels[level].contains(op) {
            i += 1
            left = Expr(kind: .binary(op, left, try binary(level: level + 1)), line: left.line)
        }
        return left
    }

    mutating func unary() throws -> Expr {
        let l = line
        if accept(.op("-")) { return try filtersAndTests(Expr(kind: .negate(try unary(withFilters: false)), line: l)) }
        if accept(.op("+")) { return try unary() }
        return try unary(withFilters: true)
    }

    mutating func unary(withFilters: Bool) throws -> Expr {
        let e = try postfix(try primary())
        return withFilters ? try filtersAndTests(e) : e
    }
}
