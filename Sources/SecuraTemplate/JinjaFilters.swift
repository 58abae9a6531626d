// The filters and tests chat templates use. `tojson` is transformers' version (json.dumps with
// ensure_ascii=False, so non-ASCII text stays as is and <, >, & are not escaped), not Jinja's.
// An unknown filter or test fails by name.

extension Renderer {
    func filter(_ name: String, _ v: JinjaValue, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)],
                line: Int) throws -> JinjaValue {
        func arg(_ i: Int, _ key: String) -> JinjaValue? {
            i < args.count ? args[i] : kwargs.first { $0.0 == key }?.1
        }
        switch name {
        case "trim":
            var chars: String? = nil
            if case let .string(c)? = arg(0, "chars") { chars = c }
            return .string(pythonStrip(v.text, chars: chars, leading: true, trailing: true))
        case "length", "count":
            switch v {
            case .undefined: return .int(0)
            case let .string(s): return .int(s.unicodeScalars.count)
            case let .list(l): return .int(l.count)
            case let .dict(d): return .int(d.keys.count)
            default: throw EvalFailure.runtime("object of type '\(v.typeName)' has no len()", line: line)
            }
        case "tojson":
            var indent: Int? = nil
            if case let .int(n)? = arg(0, "indent") { indent = n }
            let sortKeys = arg(3, "sort_keys")?.isTruthy ?? false
            if arg(2, "separators") != nil { throw EvalFailure.unsupported("tojson(separators=...)", line: line) }
            if arg(1, "ensure_ascii")?.isTruthy == true { throw EvalFailure.unsupported("tojson(ensure_ascii=true)", line: line) }
            if let other = kwargs.first(where: { !["indent", "ensure_ascii", "separators", "sort_keys"].contains($0.0) }) {
                throw EvalFailure.unsupported("tojson(\(other.0)=...)", line: line)
            }
            return .string(try JinjaJSON.dumps(v, indent: indent, sortKeys: sortKeys, line: line))
        case "upper": return .string(v.text.uppercased())
        case "lower": return .string(v.text.lowercased())
        case "capitalize":
            let s = Array(v.text.unicodeScalars)
            guard let first = s.first else { return .string("") }
            var rest = ""
            rest.unicodeScalars.append(contentsOf: s.dropFirst())
            return .string(String(first).uppercased() + rest.lowercased())
        case "title":
            var out = "", previousIsLetter = false
            for c in v.text.unicodeScalars {
                let letter = c.properties.isAlphabetic
                out += letter ? (previousIsLetter ? String(c).lowercased() : String(c).uppercased()) : String(c)
                previousIsLetter = letter
            }
            return .string(out)
        case "string": return .string(v.text)
        case "safe", "escape_unsafe": return v
        case "int":
            switch v {
            case let .int(i): return .int(i)
            case let .double(d): return .int(Int(d))
            case let .bool(b): return .int(b ? 1 : 0)
            case let .string(s): return .int(Int(s.trimmingCharacters(in: .whitespaces)) ?? 0)
            default: return .int(0)
            }
        case "first", "last":
            let items = try iterate(v, line: line)
            return (name == "first" ? items.first : items.last) ?? .undefined("\(name) of an empty sequence")
        case "list": return .list(try iterate(v, line: line))
        case "reverse":
            if case let .string(s) = v { return .string(String(s.unicodeScalars.reversed().map(Character.init))) }
            return .list(try iterate(v, line: line).reversed())
        case "join":
            var separator = ""
            if case let .string(s)? = arg(0, "d") { separator = s }
            if arg(1, "attribute") != nil { throw EvalFailure.unsupported("join(attribute=...)", line: line) }
            return .string(try iterate(v, line: line).map(\.text).joined(separator: separator))
        case "default", "d":
            let fallback = arg(0, "default_value") ?? .string("")
            let boolean = arg(1, "boolean")?.isTruthy ?? false
            return v.isUndefined || (boolean && !v.isTruthy) ? fallback : v
        case "replace":
            guard case let .string(old)? = arg(0, "old"), case let .string(new)? = arg(1, "new") else {
                throw EvalFailure.runtime("replace needs two strings", line: line)
            }
            return .string(v.text.replacingOccurrences(of: old, with: new, options: .literal))
        case "items":
            switch v {
            case .undefined: return .list([])
            case let .dict(d): return .list(d.pairs.map { .list([.string($0.0), $0.1]) })
            default: throw EvalFailure.runtime("items filter needs a mapping, got \(v.typeName)", line: line)
            }
        case "select", "reject", "selectattr", "rejectattr":
            let byAttribute = name.hasSuffix("attr")
            var rest = args
            var attribute: String? = nil
            if byAttribute {
                guard case let .string(a)? = rest.first else { throw EvalFailure.runtime("\(name) needs an attribute name", line: line) }
                attribute = a
                rest.removeFirst()
            }
            let keep = name.hasPrefix("select")
            guard v.isTruthy else { return .list([]) }   // Jinja skips an empty or None sequence
            return .list(try iterate(v, line: line).filter { item in
                let subject = try attribute.map { try self.attribute(item, $0, line: line) } ?? item
                guard case let .string(testName)? = rest.first else { return subject.isTruthy == keep }
                return try test(testName, subject, Array(rest.dropFirst()), line: line) == keep
            })
        case "map":
            guard v.isTruthy else { return .list([]) }
            if case let .string(a)? = kwargs.first(where: { $0.0 == "attribute" })?.1 {
                return .list(try iterate(v, line: line).map { try self.attribute($0, a, line: line) })
            }
            guard case let .string(f)? = args.first else { throw EvalFailure.unsupported("map without a filter name or attribute", line: line) }
            return .list(try iterate(v, line: line).map { try filter(f, $0, Array(args.dropFirst()), [], line: line) })
        default:
            throw EvalFailure.unsupported("the filter '\(name)'", line: line)
        }
    }

    func test(_ name: String, _ v: JinjaValue, _ args: [JinjaValue], line: Int) throws -> Bool {
        switch name {
        case "defined": return !v.isUndefined
        case "undefined": return v.isUndefined
        case "none": return v == .none && !v.isUndefined
        case "string": if case .string = v { return true } else { return false }
        case "mapping": if case .dict = v { return true } else { return false }
        case "boolean": if case .bool = v { return true } else { return false }
        case "true": return v == .bool(true) && { if case .bool = v { return true } else { return false } }()
        case "false": return v == .bool(false) && { if case .bool = v { return true } else { return false } }()
        case "integer": if case .int = v { return true } else { return false }
        case "float": if case .double = v { return true } else { return false }
        case "number": switch v { case .int, .double, .bool: return true; default: return false }
        case "iterable": switch v { case .list, .dict, .string, .undefined, .namespace: return true; default: return false }
        case "sequence": switch v { case .list, .dict, .string: return true; default: return false }
        case "callable": switch v { case .function, .method: return true; default: return false }
        case "equalto", "eq", "==": return v == (args.first ?? .none)
        case "ne", "!=": return v != (args.first ?? .none)
        case "sameas":
            let other = args.first ?? .none
            switch (v, other) {
            case (.none, .none): return true
            case let (.bool(a), .bool(b)): return a == b
            default: return v == other && v.typeName == other.typeName
            }
        case "in": return try contains(args.first ?? .undefined("in"), v, line: line)
        case "odd", "even", "divisibleby":
            guard case let .int(i) = v else { throw EvalFailure.runtime("\(name) needs an integer", line: line) }
            if name == "divisibleby" {
                guard case let .int(d)? = args.first, d != 0 else { throw EvalFailure.runtime("divisibleby needs a non-zero integer", line: line) }
                return i % d == 0
            }
            return (i % 2 != 0) == (name == "odd")
        case "lower": return v.text == v.text.lowercased()
        case "upper": return v.text == v.text.uppercased()
        case "gt", "lt", "ge", "le", ">", "<", ">=", "<=":
            let op = ["gt": ">", "lt": "<", "ge": ">=", "le": "<="][name] ?? name
            return try binary(op, v, args.first ?? .none, line: line).isTruthy
        default:
            throw EvalFailure.unsupported("the test 'is \(name)'", line: line)
        }
    }
}
