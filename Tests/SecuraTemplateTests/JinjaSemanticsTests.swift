// The Jinja interpreter on small templates whose expected output was checked with Python's jinja2
// configured as transformers configures it (trim_blocks, lstrip_blocks): scoping, whitespace control,
// loop variables, operators, filters, tests, methods, and errors that name the construct and line.

import Foundation
import SecuraTemplate
import XCTest

final class JinjaSemanticsTests: XCTestCase {
    private func render(_ source: String, _ context: [String: JinjaValue] = [:], file: StaticString = #filePath,
                        line: UInt = #line) throws -> String {
        try JinjaTemplate(source, name: "t.jinja").render(context)
    }

    func testScopingRules() throws {
        // A set inside a loop neither leaks out nor survives to the next iteration; a namespace does.
        XCTAssertEqual(try render("{% set x = 1 %}{% for i in [1,2,3] %}{{ x }}{% set x = x + i %}{% endfor %}|{{ x }}"), "111|1")
        XCTAssertEqual(try render("{% for i in [1,2] %}{% if i == 2 %}[{{ y }}]{% endif %}{% set y = i %}{% endfor %}"), "[]")
        XCTAssertEqual(try render("{% set ns = namespace(n=0) %}{% for i in [1,2,3] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}"), "6")
        XCTAssertEqual(try render("{% if true %}{% set z = 'kept' %}{% endif %}{{ z }}"), "kept")
    }

    func testWhitespaceControl() throws {
        XCTAssertEqual(try render("  {% if true %}\n  x\n  {% endif %}\n  y {# c #}\nz\n"), "  x\n  y z")
        XCTAssertEqual(try render("a  {%- if true -%}  \n b {{- ' c ' -}}  d{% endif %}"), "ab c d")
        XCTAssertEqual(try render("{{ 'a' }}\n{{ 'b' }}\n"), "a\nb")
        XCTAssertEqual(try render("x\n    {%+ if true %}y{% endif %}"), "x\n    y")
        XCTAssertEqual(try render("{% if true +%}\ny{% endif %}"), "\ny")
    }

    func testLoopsAndExpressions() throws {
        let messages: JinjaValue = .list(["a", "b", "c"].map { .dict(JinjaDict([("role", .string($0))])) })
        XCTAssertEqual(try render("{% for m in messages %}{{ loop.index0 }}{{ m.role }}{{ loop.length }}{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %},{% endfor %}",
                                  ["messages": messages]), "0a3F,1b3,2c3L,")
        XCTAssertEqual(try render("{% for m in messages[1:] %}{{ m['role'] }}{% endfor %}|{% for m in messages[::-1] %}{{ m.role }}{% endfor %}",
                                  ["messages": messages]), "bc|cba")
        XCTAssertEqual(try render("{{ messages|length - 1 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ 7 / 2 }} {{ 2 ** 3 }}{{ (-1) ** 3 }}{{ 0 ** 0 }} {{ 'a' ~ 1 ~ none }}",
                                  ["messages": messages]), "2 3 -4 1 3.5 8-11 a1None")
        XCTAssertEqual(try render("{{ 'y' if 'b' in 'abc' and not 'z' in 'abc' else 'n' }} {{ [1, 'a', none, true] }} {{ {'k': 'v'} }}"),
                       "y [1, 'a', None, True] {'k': 'v'}")
        XCTAssertEqual(try render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for x in [] %}{% else %}empty{% endfor %}",
                                  ["d": .dict(JinjaDict([("a", .int(1)), ("b", .int(2))]))]), "a=1;b=2;empty")
        XCTAssertEqual(try render("{% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}"), "02")
    }

    func testFiltersTestsAndMethods() throws {
        XCTAssertEqual(try render("{{ '  x \\n'|trim }}|{{ ' a b '.strip() }}|{{ 'a,b'.split(',') }}|{{ 'Hi'.upper() }}{{ 'Hi'|lower }}"),
                       "x|a b|['a', 'b']|HIhi")
        XCTAssertEqual(try render("{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x', 'c')) }}{{ 'x</think>y'.split('</think>')[-1] }}"),
                       "TrueTruey")
        XCTAssertEqual(try render("{{ x is defined }}{{ y is defined }}{{ none is none }}{{ 's' is string }}{{ {} is mapping }}{{ x is not none }}",
                                  ["x": .int(1)]), "TrueFalseTrueTrueTrueTrue")
        XCTAssertEqual(try render("{{ d|tojson }}|{{ d|tojson(indent=2) }}", ["d": .dict(JinjaDict([("é", .string("<ü>\n")), ("n", .list([.int(1), .double(2.5), .none]))]))]),
                       "{\"é\": \"<ü>\\n\", \"n\": [1, 2.5, null]}|{\n  \"é\": \"<ü>\\n\",\n  \"n\": [\n    1,\n    2.5,\n    null\n  ]\n}")
        XCTAssertEqual(try render("{{ ['a','b','code']|reject('equalto', 'code')|join(', ') }}|{{ x|default('d') }}"), "a, b|d")
    }

    func testMacrosBlockSetAndGeneration() throws {
        XCTAssertEqual(try render("{% macro tag(name, body='x') %}<{{ name }}>{{ body }}{% endmacro %}{{ tag('a') }}{{ tag('b', body='y') }}{{ tag('c', 'z') }}"),
                       "<a>x<b>y<c>z")
        XCTAssertEqual(try render("{% set s %}\n  {{ 1 + 1 }}!\n{% endset %}[{{ s|trim }}]{% generation %}g{% endgeneration %}"), "[2!]g")
    }

    func testStrftimeNowIsPinned() throws {
        let date = ISO8601DateFormatter().date(from: "2025-03-04T10:00:00Z")!
        let t = try JinjaTemplate("{{ strftime_now('%d %b %Y') }} {{ strftime_now('%B %-d') if false else strftime_now('%A') }}", name: "t")
        XCTAssertEqual(try t.render([:], now: date, timeZone: TimeZone(identifier: "UTC")!), "04 Mar 2025 Tuesday")
    }

    func testErrorsNameTheConstructAndLine() {
        func assertError(_ source: String, _ expected: JinjaError, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try JinjaTemplate(source, name: "t.jinja").render([:]), file: file, line: line) {
                XCTAssertEqual($0 as? JinjaError, expected, file: file, line: line)
            }
        }
        assertError("a\n{% call m() %}{% endcall %}", .unsupported(template: "t.jinja", line: 2, construct: "the statement '{% call %}'"))
        assertError("\n\n{{ x|wordwrap }}", .unsupported(template: "t.jinja", line: 3, construct: "the filter 'wordwrap'"))
        assertError("{{ 'a'.format(1) }}", .unsupported(template: "t.jinja", line: 1, construct: "the string method 'format'"))
        assertError("{{ x is escaped }}", .unsupported(template: "t.jinja", line: 1, construct: "the test 'is escaped'"))
        assertError("\n{{ raise_exception('no system role') }}", .raised(template: "t.jinja", line: 2, message: "no system role"))
        assertError("{{ x.y }}", .runtime(template: "t.jinja", line: 1, message: "'x' is undefined"))
        assertError("{{ 'a' + 1 }}", .runtime(template: "t.jinja", line: 1, message: "unsupported operand types for +: 'str' and 'int'"))
        assertError("{{ 9223372036854775807 + 1 }}", .unsupported(template: "t.jinja", line: 1, construct: "integers beyond 64 bits"))
        assertError("{% if x %}", .syntax(template: "t.jinja", line: 1, message: "missing '{% endif %}' for the if on line 1"))
    }
}
