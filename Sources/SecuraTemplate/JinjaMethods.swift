// Calls: Python string methods (strip, split, startswith, ...), dict methods (items, keys, values,
// get) and the globals transformers gives chat templates: raise_exception, strftime_now, namespace,
// dict, plus Jinja's range. A real Python method this file does not implement fails by name.

import Foundation

extension Renderer {
    static let stringMethods: Set<String> = ["strip", "lstrip", "rstrip", "startswith", "endswith", "split", "rsplit",
                                             "upper", "lower", "title", "capitalize", "replace", "find", "count",
                                             "join", "splitlines", "isdigit", "isspace", "isalpha"]
    static let otherStringMethods: Set<String> = ["format", "format_map", "center", "ljust", "rjust", "zfill", "partition",
                                                  "rpartition", "index", "rfind", "rindex", "encode", "casefold", "swapcase",
                                                  "expandtabs", "translate", "removeprefix", "removesuffix", "isalnum",
                                                  "isupper", "islower", "istitle", "isnumeric", "isdecimal"]
    static let dictMethods: Set<String> = ["items", "keys", "values", "get"]

    func call(_ f: JinjaValue, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)], line: Int) throws -> JinjaValue {
        switch f {
        case let .method(receiver, name): return try method(receiver, name, args, kwargs, line: line)
        case let .function(name): return try global(name, args, kwargs, line: line)
        case let .macro(m): return try call(m, args, kwargs, line: line)
        case .undefined: throw EvalFailure.runtime("\(undefinedError(f, line: line)); it cannot be called", line: line)
        default: throw EvalFailure.runtime("'\(f.typeName)' object is not callable", line: line)
        }
    }

    private func global(_ name: String, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)], line: Int) throws -> JinjaValue {
        switch name {
        case "raise_exception":
            throw EvalFailure.raised(args.first?.text ?? "", line: line)
        case "strftime_now":
            guard case let .string(format)? = args.first else {
                throw EvalFailure.runtime("strftime_now needs a format string", line: line)
            }
            return .string(try strftime(format, now, timeZone: timeZone, line: line))
        case "namespace", "dict":
            var d = JinjaDict()
            for a in args {
                guard case let .dict(initial) = a else {
                    throw EvalFailure.unsupported("\(name)() with a positional argument that is not a dict", line: line)
                }
                for (k, v) in initial.pairs { d[k] = v }
            }
            for (k, v) in kwargs { d[k] = v }
            return name == "dict" ? .dict(d) : .namespace(JinjaNamespace(d))
        case "range":
            let ints = try args.map { a -> Int in
                guard case let .int(i) = a else { throw EvalFailure.runtime("range() takes integers", line: line) }
                return i
            }
            let (start, stop, step) = ints.count == 1 ? (0, ints[0], 1) : (ints[0], ints[1], ints.count > 2 ? ints[2] : 1)
            guard ints.count >= 1, ints.count <= 3, step != 0 else { throw EvalFailure.runtime("bad range() arguments", line: line) }
            return .list(stride(from: start, to: stop, by: step).map(JinjaValue.int))
        default:
            throw EvalFailure.unsupported("the function '\(name)'", line: line)
        }
    }

    private func method(_ receiver: JinjaValue, _ name: String, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)],
                        line: Int) throws -> JinjaValue {
        func arg(_ i: Int, _ key: String) -> JinjaValue? {
            i < args.count ? args[i] : kwargs.first { $0.0 == key }?.1
        }
        func string(_ i: Int, _ key: String) throws -> String? {
            switch arg(i, key) {
            case nil, .none?: return nil
            case let .string(s)?: return s
            case let v?: throw EvalFailure.runtime("\(name)() argument must be str, not \(v.typeName)", line: line)
            }
        }
        if case let .dict(d) = receiver {
            switch name {
            case "items": return .list(d.pairs.map { .list([.string($0.0), $0.1]) })
            case "keys": return .list(d.keys.map(JinjaValue.string))
            case "values": return .list(d.pairs.map(\.1))
            default:   // get
                guard case let .string(k)? = arg(0, "key") else { return arg(1, "default") ?? .none }
                return d[k] ?? arg(1, "default") ?? .none
            }
        }
        guard case let .string(s) = receiver else { throw EvalFailure.unsupported("the method '\(name)'", line: line) }
        switch name {
        case "strip", "lstrip", "rstrip":
            return .string(pythonStrip(s, chars: try string(0, "chars"), leading: name != "rstrip", trailing: name != "lstrip"))
        case "startswith", "endswith":
            let candidates: [JinjaValue]
            if case let .list(l)? = arg(0, "prefix") { candidates = l } else { candidates = [arg(0, "prefix") ?? .none] }
            return .bool(try candidates.contains { c in
                guard case let .string(p) = c else { throw EvalFailure.runtime("\(name) needs str arguments", line: line) }
                return name == "startswith" ? s.unicodeScalars.starts(with: p.unicodeScalars)
                    : s.unicodeScalars.reversed().starts(with: p.unicodeScalars.reversed())
            })
        case "split", "rsplit":
            var maxSplit = -1
            if case let .int(m)? = arg(1, "maxsplit") { maxSplit = m }
            let parts = try pythonSplit(s, separator: try string(0, "sep"), maxSplit: maxSplit, fromRight: name == "rsplit", line: line)
            return .list(parts.map(JinjaValue.string))
        case "upper": return .string(s.uppercased())
        case "lower": return .string(s.lowercased())
        case "title", "capitalize": return try filter(name, receiver, [], [], line: line)
        case "replace":
            guard let old = try string(0, "old"), let new = try string(1, "new") else {
                throw EvalFailure.runtime("replace() needs two strings", line: line)
            }
            return .string(s.replacingOccurrences(of: old, with: new, options: .literal))
        case "find", "count":
            guard let needle = try string(0, "sub") else { throw EvalFailure.runtime("\(name)() needs a string", line: line) }
            let hay = Array(s.unicodeScalars), n = Array(needle.unicodeScalars)
            var hits: [Int] = []
            var i = 0
            while i + n.count <= hay.count {
                if Array(hay[i..<(i + n.count)]) == n { hits.append(i); i += max(n.count, 1) } else { i += 1 }
            }
            return .int(name == "find" ? (hits.first ?? -1) : hits.count)
        case "join":
            guard case let .list(items)? = arg(0, "iterable") else { throw EvalFailure.runtime("join() needs a list", line: line) }
            return .string(items.map(\.text).joined(separator: s))
        case "splitlines":
            return .list(s.split(separator: "\n", omittingEmptySubsequences: false).map { .string(String($0)) }.dropLast(s.hasSuffix("\n") ? 1 : 0))
        case "isdigit": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType == .decimal })
        case "isspace": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(isPythonSpace))
        case "isalpha": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic })
        default: throw EvalFailure.unsupported("the string method '\(name)'", line: line)
        }
    }
}

/// Python's str.strip / lstrip / rstrip: whitespace by default, else any of `chars`.
func pythonStrip(_ s: String, chars: String?, leading: Bool, trailing: Bool) -> String {
    let set = chars.map { Set($0.unicodeScalars) }
    func strip(_ c: Unicode.Scalar) -> Bool { set.map { $0.contains(c) } ?? isPythonSpace(c) }
    var scalars = Array(s.unicodeScalars)[...]
    if leading { while let f = scalars.first, strip(f) { scalars.removeFirst() } }
    if trailing { while let l = scalars.last, strip(l) { scalars.removeLast() } }
    var out = ""
    out.unicodeScalars.append(contentsOf: scalars)
    return out
}

/// Python's str.split / rsplit (no separator: runs of whitespace, no empty parts).
func pythonSplit(_ s: String, separator: String?, maxSplit: Int, fromRight: Bool, line: Int) throws -> [String] {
    var scalars = Array(s.unicodeScalars)
    if let sep = separator {
        var needle = Array(sep.unicodeScalars)
        guard !needle.isEmpty else { throw EvalFailure.runtime("empty separator", line: line) }
        if fromRight { scalars.reverse(); needle.reverse() }
        var parts: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        var i = 0
        while i < scalars.count {
            if maxSplit < 0 || parts.count < maxSplit, i + needle.count <= scalars.count,
               Array(scalars[i..<(i + needle.count)]) == needle {
                parts.append(current); current = []; i += needle.count
            } else {
                current.append(scalars[i]); i += 1
            }
        }
        parts.append(current)
        if fromRight { parts = parts.reversed().map { $0.reversed() } }
        return parts.map { p in var o = ""; o.unicodeScalars.append(contentsOf: p); return o }
    }
    guard maxSplit < 0, !fromRight else { throw EvalFailure.unsupported("split() on whitespace with maxsplit", line: line) }
    var parts: [String] = []
    var current = ""
    for c in scalars {
        if isPythonSpace(c) {
            if !current.isEmpty { parts.append(current); current = "" }
        } else {
            current.unicodeScalars.append(c)
        }
    }
    if !current.isEmpty { parts.append(current) }
    return parts
}
