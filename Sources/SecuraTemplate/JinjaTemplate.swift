// A compiled Jinja template and its renderer: statements run against a chain of scopes with Jinja's
// rules (a `for` body gets a fresh scope each iteration, so a `set` inside a loop neither leaks out
// nor survives to the next iteration; `if` makes no scope; a `namespace()` is shared by reference,
// which is how templates carry state out of loops). Expressions are evaluated in
// JinjaTemplate+Expressions.swift; filters, tests, methods and globals live in their own files.

import Foundation

/// A parsed Jinja template, rendered as transformers' `apply_chat_template` renders chat templates.
public struct JinjaTemplate {
    /// Where the template came from (a file path or a description), used in every error message.
    public let name: String
    let nodes: [Node]

    /// Parses `source`. - Throws: `JinjaError.syntax` or `.unsupported` naming the line.
    public init(_ source: String, name: String) throws {
        self.name = name
        nodes = try JinjaParser.parse(try JinjaLexer.tokenize(source, name: name), name: name)
    }

    /// Renders with `context` as the template's variables. `now` is what `strftime_now` formats
    /// (transformers uses the current local time; pin it for reproducible renderings), in `timeZone`.
    ///
    /// - Throws: `JinjaError` naming the line: `.raised` for `raise_exception`, `.unsupported` for
    ///   filters, tests, methods or functions this interpreter lacks, `.runtime` for Jinja errors.
    public func render(_ context: [String: JinjaValue], now: Date = Date(),
                       timeZone: TimeZone = .current) throws -> String {
        let globals = Scope(parent: nil)
        for function in ["raise_exception", "strftime_now", "namespace", "range", "dict"] {
            globals.vars[function] = .function(function)
        }
        let root = Scope(parent: globals)
        root.vars = context
        let renderer = Renderer(now: now, timeZone: timeZone)
        do {
            _ = try renderer.run(nodes, root)
        } catch let failure as EvalFailure {
            switch failure {
            case let .unsupported(construct, line): throw JinjaError.unsupported(template: name, line: line, construct: construct)
            case let .runtime(message, line): throw JinjaError.runtime(template: name, line: line, message: message)
            case let .raised(message, line): throw JinjaError.raised(template: name, line: line, message: message)
            }
        }
        return renderer.out
    }
}

/// Variables visible at one level; lookups walk outwards.
final class Scope {
    var vars: [String: JinjaValue] = [:]
    let parent: Scope?

    init(parent: Scope?) { self.parent = parent }

    func lookup(_ name: String) -> JinjaValue? {
        var scope: Scope? = self
        while let s = scope {
            if let v = s.vars[name] { return v }
            scope = s.parent
        }
        return nil
    }
}

final class Renderer {
    enum Flow { case normal, breakLoop, continueLoop }

    var out = ""
    let now: Date
    let timeZone: TimeZone

    init(now: Date, timeZone: TimeZone) {
        self.now = now
        self.timeZone = timeZone
    }

    func run(_ nodes: [Node], _ scope: Scope) throws -> Flow {
        for node in nodes {
            let flow = try run(node, scope)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func run(_ node: Node, _ scope: Scope) throws -> Flow {
        switch node {
        case let .text(t):
            out += t
        case let .output(e):
            out += try eval(e, scope).text
        case let .conditional(branches, otherwise):
            for (condition, body) in branches where try eval(condition, scope).isTruthy {
                return try run(body, scope)
            }
            return try run(otherwise, scope)
        case let .loop(targets, iterable, filter, body, otherwise, line):
            return try loop(targets: targets, iterable: try eval(iterable, scope), filter: filter,
                            body: body, otherwise: otherwise, scope: scope, line: line)
        case let .set(target, value, line):
            let v = try eval(value, scope)
            switch target {
            case let .name(n):
                scope.vars[n] = v
            case let .attribute(n, attribute):
                guard case let .namespace(ns)? = scope.lookup(n) else {
                    throw EvalFailure.runtime("cannot assign attribute '\(attribute)' on '\(n)', which is not a namespace()", line: line)
                }
                ns.attributes[attribute] = v
            }
        case .breakLoop: return .breakLoop
        case .continueLoop: return .continueLoop
        case let .macro(name, parameters, body, _):
            scope.vars[name] = .macro(JinjaMacro(name: name, parameters: parameters, body: body, scope: scope))
        case let .captureSet(name, body):
            scope.vars[name] = .string(try capture { try run(body, scope) })
        case let .group(body):
            return try run(body, scope)
        }
        return .normal
    }

    private func loop(targets: [String], iterable: JinjaValue, filter: Expr?, body: [Node], otherwise: [Node],
                      scope: Scope, line: Int) throws -> Flow {
        var items = try iterate(iterable, line: line)
        func bind(_ item: JinjaValue, into s: Scope) throws {
            if targets.count == 1 { s.vars[targets[0]] = item; return }
            guard case let .list(parts) = item, parts.count == targets.count else {
                throw EvalFailure.runtime("cannot unpack \(item.repr) into \(targets.count) loop variables", line: line)
            }
            for (t, v) in zip(targets, parts) { s.vars[t] = v }
        }
        if let filter {
            items = try items.filter { item in
                let s = Scope(parent: scope)
                try bind(item, into: s)
                return try eval(filter, s).isTruthy
            }
        }
        let n = items.count
        for (index, item) in items.enumerated() {
            let s = Scope(parent: scope)
            s.vars["loop"] = .dict(JinjaDict([
                ("index", .int(index + 1)), ("index0", .int(index)),
                ("revindex", .int(n - index)), ("revindex0", .int(n - index - 1)),
                ("first", .bool(index == 0)), ("last", .bool(index == n - 1)), ("length", .int(n)),
                ("previtem", index > 0 ? items[index - 1] : .undefined("loop.previtem")),
                ("nextitem", index + 1 < n ? items[index + 1] : .undefined("loop.nextitem")),
                ("depth", .int(1)), ("depth0", .int(0)),
            ]))
            try bind(item, into: s)
            if try run(body, s) == .breakLoop { break }
        }
        if n == 0 { return try run(otherwise, Scope(parent: scope)) }
        return .normal
    }

    /// What `body` writes, without writing it.
    func capture(_ body: () throws -> Flow) throws -> String {
        let saved = out
        out = ""
        defer { out = saved }
        _ = try body()
        return out
    }

    /// Calls a macro: parameters bound positionally, then by keyword, then from defaults (evaluated in
    /// the call's scope); others are Undefined, as in Jinja.
    func call(_ m: JinjaMacro, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)], line: Int) throws -> JinjaValue {
        guard args.count <= m.parameters.count else {
            throw EvalFailure.unsupported("a macro called with more arguments than it declares (varargs)", line: line)
        }
        let scope = Scope(parent: m.scope)
        for (index, (name, fallback)) in m.parameters.enumerated() {
            if index < args.count {
                scope.vars[name] = args[index]
            } else if let given = kwargs.first(where: { $0.0 == name }) {
                scope.vars[name] = given.1
            } else {
                scope.vars[name] = try fallback.map { try eval($0, scope) } ?? .undefined("macro parameter '\(name)'")
            }
        }
        if let extra = kwargs.first(where: { k in !m.parameters.contains { $0.0 == k.0 } }) {
            throw EvalFailure.runtime("macro '\(m.name)' takes no keyword argument '\(extra.0)'", line: line)
        }
        return .string(try capture { try run(m.body, scope) })
    }

    /// What `for` iterates: list items, dict keys, string characters; Undefined is empty.
    func iterate(_ value: JinjaValue, line: Int) throws -> [JinjaValue] {
        switch value {
        case .undefined: return []
        case let .list(items): return items
        case let .dict(d): return d.keys.map(JinjaValue.string)
        case let .string(s): return s.unicodeScalars.map { .string(String($0)) }
        case let .namespace(ns): return ns.attributes.keys.map(JinjaValue.string)
        default: throw EvalFailure.runtime("'\(value.typeName)' object is not iterable", line: line)
        }
    }
}
