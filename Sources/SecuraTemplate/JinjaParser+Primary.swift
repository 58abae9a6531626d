// Primaries (literals, names, parenthesised expressions, list and dict displays), postfix access
// (attributes, items, slices, calls) and the filter/test chain, for JinjaParser.

extension JinjaParser {
    mutating func primary() throws -> Expr {
        let l = line
        switch try next() {
        case let .name(n):
            switch n {
            case "true", "True": return Expr(kind: .literal(.bool(true)), line: l)
            case "false", "False": return Expr(kind: .literal(.bool(false)), line: l)
            case "none", "None": return Expr(kind: .literal(.none), line: l)
            default: return Expr(kind: .name(n), line: l)
            }
        case var .string(s):
            while case let .string(more)? = peek { i += 1; s += more }   // adjacent literals concatenate
            return Expr(kind: .literal(.string(s)), line: l)
        case let .int(v): return Expr(kind: .literal(.int(v)), line: l)
        case let .float(v): return Expr(kind: .literal(.double(v)), line: l)
        case .op("("):
            if accept(.op(")")) { return Expr(kind: .list([]), line: l) }
            let e = try expression()
            if peek == .op(",") {
                var items = [e]
                while accept(.op(",")) {
                    if peek == .op(")") { break }
                    items.append(try expression())
                }
                try expect(.op(")"), "')'")
                return Expr(kind: .list(items), line: l)   // tuples behave as lists here
            }
            try expect(.op(")"), "')'")
            return e
        case .op("["):
            var items: [Expr] = []
            while !accept(.op("]")) {
                items.append(try expression())
                if !accept(.op(",")) { try expect(.op("]"), "']'"); break }
            }
            return Expr(kind: .list(items), line: l)
        case .op("{"):
            var pairs: [(Expr, Expr)] = []
            while !accept(.op("}")) {
                let key = try expression()
                try expect(.op(":"), "':' in a dict")
                pairs.append((key, try expression()))
                if !accept(.op(",")) { try expect(.op("}"), "'}'"); break }
            }
            return Expr(kind: .dict(pairs), line: l)
        default:
            i -= 1
            throw syntax("expected an expression")
        }
    }

    mutating func postfix(_ base: Expr) throws -> Expr {
        var e = base
        while true {
            let l = line
            if accept(.op(".")) {
                if case let .int(index)? = peek {   // `x.0` is `x[0]` in Jinja
                    i += 1
                    e = Expr(kind: .item(e, Expr(kind: .literal(.int(index)), line: l)), line: l)
                } else {
                    e = Expr(kind: .attribute(e, try identifier()), line: l)
                }
            } else if accept(.op("[")) {
                e = try subscriptOrSlice(e, line: l)
            } else if peek == .op("(") {
                let (args, kwargs) = try callArguments()
                e = Expr(kind: .call(e, args, kwargs), line: l)
            } else {
                return e
            }
        }
    }

    private mutating func subscriptOrSlice(_ base: Expr, line l: Int) throws -> Expr {
        var parts: [Expr?] = [nil]
        var isSlice = false
        while !accept(.op("]")) {
            if accept(.op(":")) {
                isSlice = true
                parts.append(nil)
                guard parts.count <= 3 else { throw syntax("too many ':' in a slice") }
            } else {
                guard parts[parts.count - 1] == nil else { throw syntax("expected ']'") }
                parts[parts.count - 1] = try expression()
            }
        }
        if !isSlice {
            guard let index = parts[0] else { throw syntax("empty subscript") }
            return Expr(kind: .item(base, index), line: l)
        }
        while parts.count < 3 { parts.append(nil) }
        return Expr(kind: .slice(base, parts[0], parts[1], parts[2]), line: l)
    }

    mutating func callArguments() throws -> ([Expr], [(String, Expr)]) {
        try expect(.op("("), "'('")
        var args: [Expr] = []
        var kwargs: [(String, Expr)] = []
        while !accept(.op(")")) {
            if case let .name(key)? = peek, peek(1) == .op("=") {
                i += 2
                kwargs.append((key, try expression()))
            } else {
                args.append(try expression())
            }
            if !accept(.op(",")) { try expect(.op(")"), "')'"); break }
        }
        return (args, kwargs)
    }

    mutating func filtersAndTests(_ base: Expr) throws -> Expr {
        var e = base
        while true {
            let l = line
            if accept(.op("|")) {
                var filterName = try identifier()
                while accept(.op(".")) { filterName += "." + (try identifier()) }
                var args: [Expr] = [], kwargs: [(String, Expr)] = []
                if peek == .op("(") { (args, kwargs) = try callArguments() }
                e = Expr(kind: .filter(e, filterName, args, kwargs), line: l)
            } else if accept(.name("is")) {
                let negated = accept(.name("not"))
                let testName = try identifier()
                var args: [Expr] = []
                if peek == .op("(") {
                    let (a, kw) = try callArguments()
                    guard kw.isEmpty else { throw JinjaError.unsupported(template: name, line: l, construct: "keyword arguments to a test") }
                    args = a
                } else if startsTestArgument {
                    args = [try postfix(try primary())]
                }
                e = Expr(kind: .test(e, testName, args, negated: negated), line: l)
            } else {
                return e
            }
        }
    }

    /// Jinja lets a test take one argument without parentheses (`x is divisibleby 3`, `x is sameas false`).
    private var startsTestArgument: Bool {
        switch peek {
        case let .name(n)?: return !["else", "or", "and", "if", "is", "in", "not"].contains(n)
        case .string?, .int?, .float?, .op("[")?, .op("{")?: return true
        default: return false
        }
    }
}
