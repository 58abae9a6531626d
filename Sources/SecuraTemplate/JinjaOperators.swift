// Binary operators with Python's typing: + on numbers, strings or lists; ~ on anything through str();
// / always gives a float, // and % floor; comparisons numeric, by code point for strings, and
// element-wise for lists; `in` tests substrings, list membership and dict keys.

import Foundation

extension Renderer {
    func binary(_ op: String, _ a: JinjaValue, _ b: JinjaValue, line: Int) throws -> JinjaValue {
        func fail() -> EvalFailure {
            if a.isUndefined { return undefinedError(a, line: line) }
            if b.isUndefined { return undefinedError(b, line: line) }
            return .runtime("unsupported operand types for \(op): '\(a.typeName)' and '\(b.typeName)'", line: line)
        }
        switch op {
        case "~": return .string(a.text + b.text)
        case "==": return .bool(a == b)
        case "!=": return .bool(a != b)
        case "in": return .bool(try contains(b, a, line: line))
        case "<", "<=", ">", ">=":
            guard let order = compare(a, b) else { throw fail() }
            switch op {
            case "<": return .bool(order < 0)
            case "<=": return .bool(order <= 0)
            case ">": return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case "+":
            switch (a, b) {
            case let (.string(x), .string(y)): return .string(x + y)
            case let (.list(x), .list(y)): return .list(x + y)
            default: break
            }
        case "*":
            switch (a, b) {
            case let (.string(s), .int(n)), let (.int(n), .string(s)): return .string(String(repeating: s, count: max(n, 0)))
            case let (.list(l), .int(n)), let (.int(n), .list(l)):
                return .list(Array([[JinjaValue]](repeating: l, count: max(n, 0)).joined()))
            default: break
            }
        default: break
        }
        return try arithmetic(op, a, b, line: line, fail: fail)
    }

    private func arithmetic(_ op: String, _ a: JinjaValue, _ b: JinjaValue, line: Int,
                            fail: () -> EvalFailure) throws -> JinjaValue {
        func asInt(_ v: JinjaValue) -> Int? {
            switch v {
            case let .int(i): return i
            case let .bool(x): return x ? 1 : 0
            default: return nil
            }
        }
        if let x = asInt(a), let y = asInt(b), op != "/" {
            func checked(_ r: (partialValue: Int, overflow: Bool)) throws -> JinjaValue {
                guard !r.overflow else { throw EvalFailure.unsupported("integers beyond 64 bits", line: line) }
                return .int(r.partialValue)
            }
            switch op {
            case "+": return try checked(x.addingReportingOverflow(y))
            case "-": return try checked(x.subtractingReportingOverflow(y))
            case "*": return try checked(x.multipliedReportingOverflow(by: y))
            case "//", "%":
                guard y != 0 else { throw EvalFailure.runtime("integer division or modulo by zero", line: line) }
                var q = x / y
                if (x % y != 0) && ((x < 0) != (y < 0)) { q -= 1 }
                return .int(op == "//" ? q : x - q * y)
            case "**":
                guard y >= 0 else { return .double(pow(Double(x), Double(y))) }
                if abs(x) <= 1 { return .int(x == -1 && y % 2 == 1 ? -1 : (x == 0 && y > 0 ? 0 : 1)) }
                var r = JinjaValue.int(1)
                for _ in 0..<min(y, 64) {
                    guard case let .int(v) = r else { break }
                    r = try checked(v.multipliedReportingOverflow(by: x))
                }
                guard y <= 64 else { throw EvalFailure.unsupported("integers beyond 64 bits", line: line) }
                return r
            default: throw fail()
            }
        }
        guard let x = a.number, let y = b.number else { throw fail() }
        switch op {
        case "+": return .double(x + y)
        case "-": return .double(x - y)
        case "*": return .double(x * y)
        case "/":
            guard y != 0 else { throw EvalFailure.runtime("division by zero", line: line) }
            return .double(x / y)
        case "//":
            guard y != 0 else { throw EvalFailure.runtime("float floor division by zero", line: line) }
            return .double((x / y).rounded(.down))
        case "%":
            guard y != 0 else { throw EvalFailure.runtime("float modulo by zero", line: line) }
            return .double(x - (x / y).rounded(.down) * y)
        case "**": return .double(pow(x, y))
        default: throw fail()
        }
    }

    /// -1, 0 or 1, or nil when Python would refuse to order the two values.
    func compare(_ a: JinjaValue, _ b: JinjaValue) -> Int? {
        if let x = a.number, let y = b.number { return x < y ? -1 : (x > y ? 1 : 0) }
        switch (a, b) {
        case let (.string(x), .string(y)):
            let xs = x.unicodeScalars.map(\.value), ys = y.unicodeScalars.map(\.value)
            return xs == ys ? 0 : (xs.lexicographicallyPrecedes(ys) ? -1 : 1)
        case let (.list(x), .list(y)):
            for (p, q) in zip(x, y) where p != q { return compare(p, q) }
            return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
        default: return nil
        }
    }

    /// Python's `needle in haystack`.
    func contains(_ haystack: JinjaValue, _ needle: JinjaValue, line: Int) throws -> Bool {
        switch haystack {
        case .undefined: return false
        case let .string(s):
            guard case let .string(n) = needle else {
                throw EvalFailure.runtime("'in <string>' requires string as left operand, not \(needle.typeName)", line: line)
            }
            return n.isEmpty || s.utf8.count >= n.utf8.count && s.range(of: n, options: .literal) != nil
        case let .list(items): return items.contains(needle)
        case let .dict(d):
            if case let .string(k) = needle { return d[k] != nil }
            return false
        case let .namespace(ns):
            if case let .string(k) = needle { return ns.attributes[k] != nil }
            return false
        default:
            throw EvalFailure.runtime("argument of type '\(haystack.typeName)' is not iterable", line: line)
        }
    }
}
