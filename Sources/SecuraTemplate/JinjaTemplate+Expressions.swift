// Expression evaluation with Jinja's semantics: attribute access falls back to items and item access
// to attributes (`message.role` and `message['role']` are the same), a missing attribute or index is
// Undefined (an error only when Undefined is then used as an object), `~` converts with str(),
// `+` follows Python's types, and `and`/`or` return an operand as Python does.

import Foundation

extension Renderer {
    func eval(_ e: Expr, _ scope: Scope) throws -> JinjaValue {
        let line = e.line
        switch e.kind {
        case let .literal(v): return v
        case let .name(n): return scope.lookup(n) ?? .undefined("'\(n)'")
        case let .list(items): return .list(try items.map { try eval($0, scope) })
        case let .dict(pairs):
            var d = JinjaDict()
            for (k, v) in pairs {
                guard case let .string(key) = try eval(k, scope) else {
                    throw EvalFailure.unsupported("a dict literal with a non-string key", line: line)
                }
                d[key] = try eval(v, scope)
            }
            return .dict(d)
        case let .attribute(base, name):
            return try attribute(try eval(base, scope), name, line: line)
        case let .item(base, index):
            return try item(try eval(base, scope), try eval(index, scope), line: line)
        case let .slice(base, a, b, c):
            return try slice(try eval(base, scope), try a.map { try eval($0, scope) }, try b.map { try eval($0, scope) },
                             try c.map { try eval($0, scope) }, line: line)
        case let .call(callee, args, kwargs):
            let f = try eval(callee, scope)
            let a = try args.map { try eval($0, scope) }
            let kw = try kwargs.map { ($0.0, try eval($0.1, scope)) }
            return try call(f, a, kw, line: line)
        case let .filter(base, name, args, kwargs):
            let v = try eval(base, scope)
            let a = try args.map { try eval($0, scope) }
            let kw = try kwargs.map { ($0.0, try eval($0.1, scope)) }
            return try filter(name, v, a, kw, line: line)
        case let .test(base, name, args, negated):
            let v = try eval(base, scope)
            let result = try test(name, v, try args.map { try eval($0, scope) }, line: line)
            return .bool(result != negated)
        case let .not(x): return .bool(!(try eval(x, scope).isTruthy))
        case let .negate(x):
            switch try eval(x, scope) {
            case let .int(v): return .int(-v)
            case let .double(v): return .double(-v)
            case let .bool(v): return .int(v ? -1 : 0)
            case let v: throw EvalFailure.runtime("bad operand type for unary -: '\(v.typeName)'", line: line)
            }
        case let .and(a, b):
            let left = try eval(a, scope)
            return left.isTruthy ? try eval(b, scope) : left
        case let .or(a, b):
            let left = try eval(a, scope)
            return left.isTruthy ? left : try eval(b, scope)
        case let .conditional(then, condition, otherwise):
            if try eval(condition, scope).isTruthy { return try eval(then, scope) }
            return try otherwise.map { try eval($0, scope) } ?? .undefined("the else branch of an inline if")
        case let .binary(op, a, b):
            return try binary(op, try eval(a, scope), try eval(b, scope), line: line)
        }
    }

    func undefinedError(_ v: JinjaValue, line: Int) -> EvalFailure {
        if case let .undefined(what) = v { return .runtime("\(what) is undefined", line: line) }
        return .runtime("undefined value", line: line)
    }

    /// `obj.name`: a method of the value's type, else (dicts, namespaces) the item; else Undefined.
    func attribute(_ obj: JinjaValue, _ name: String, line: Int) throws -> JinjaValue {
        switch obj {
        case .undefined: throw undefinedError(obj, line: line)
        case let .dict(d):
            if Self.dictMethods.contains(name) { return .method(obj, name) }
            return d[name] ?? .undefined("'dict object' has no attribute '\(name)'")
        case let .namespace(ns):
            return ns.attributes[name] ?? .undefined("namespace attribute '\(name)'")
        case .string:
            if Self.stringMethods.contains(name) { return .method(obj, name) }
            if Self.otherStringMethods.contains(name) {
                throw EvalFailure.unsupported("the string method '\(name)'", line: line)
            }
            return .undefined("'str object' has no attribute '\(name)'")
        case .list:
            if ["append", "extend", "insert", "pop", "remove", "sort", "reverse", "clear", "index", "count", "copy"].contains(name) {
                throw EvalFailure.unsupported("the list method '\(name)'", line: line)
            }
            return .undefined("'list object' has no attribute '\(name)'")
        default:
            return .undefined("'\(obj.typeName) object' has no attribute '\(name)'")
        }
    }

    /// `obj[key]`: Python indexing (negative indices count from the end); a missing key or an index
    /// out of range is Undefined; string keys fall back to attributes.
    func item(_ obj: JinjaValue, _ key: JinjaValue, line: Int) throws -> JinjaValue {
        switch (obj, key) {
        case (.undefined, _): throw undefinedError(obj, line: line)
        case let (.list(items), .int(i)):
            let j = i < 0 ? items.count + i : i
            return items.indices.contains(j) ? items[j] : .undefined("list index \(i) (of \(items.count) items)")
        case let (.string(s), .int(i)):
            let scalars = Array(s.unicodeScalars)
            let j = i < 0 ? scalars.count + i : i
            return scalars.indices.contains(j) ? .string(String(scalars[j])) : .undefined("string index \(i)")
        case let (.dict(d), .string(k)):
            if let v = d[k] { return v }
            return try attribute(obj, k, line: line)
        case let (_, .string(k)):
            return try attribute(obj, k, line: line)
        default:
            return .undefined("item \(key.repr) of a \(obj.typeName)")
        }
    }

    /// Python slicing of lists and strings, including negative bounds and steps (`messages[::-1]`).
    func slice(_ obj: JinjaValue, _ a: JinjaValue?, _ b: JinjaValue?, _ c: JinjaValue?, line: Int) throws -> JinjaValue {
        func int(_ v: JinjaValue?) throws -> Int? {
            switch v {
            case nil, .none?: return nil
            case let .int(i)?: return i
            default: throw EvalFailure.runtime("slice indices must be integers or None", line: line)
            }
        }
        let step = try int(c) ?? 1
        guard step != 0 else { throw EvalFailure.runtime("slice step cannot be zero", line: line) }
        func indices(_ n: Int) throws -> [Int] {
            func clamp(_ v: Int?, _ def: Int) -> Int {
                guard var x = v else { return def }
                if x < 0 { x += n }
                return step > 0 ? min(max(x, 0), n) : min(max(x, -1), n - 1)
            }
            let start = clamp(try int(a), step > 0 ? 0 : n - 1)
            let stop = clamp(try int(b), step > 0 ? n : -1)
            return Array(stride(from: start, to: stop, by: step))
        }
        switch obj {
        case let .list(items): return .list(try indices(items.count).map { items[$0] })
        case let .string(s):
            let scalars = Array(s.unicodeScalars)
            var out = ""
            out.unicodeScalars.append(contentsOf: try indices(scalars.count).map { scalars[$0] })
            return .string(out)
        case .undefined: throw undefinedError(obj, line: line)
        default: throw EvalFailure.runtime("'\(obj.typeName)' object is not subscriptable", line: line)
        }
    }
}
