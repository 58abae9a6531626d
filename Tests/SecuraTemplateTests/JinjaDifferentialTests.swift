// Differential check against jinja2 on every chat template of llama.cpp's models/templates (70 models'
// templates: Qwen, Llama, Gemma, Mistral, DeepSeek, GLM, Phi, Granite, ...), as written by
// Tests/Fixtures/templates/make_golden.py into the git-ignored fetched/ folder. Each rendering must be
// byte-identical to transformers', or refused as unsupported (naming the construct); where
// transformers fails, the interpreter must fail too. Skips where the script has not been run.

import Foundation
import SecuraTemplate
import XCTest

final class JinjaDifferentialTests: XCTestCase {
    struct Message: Decodable { let role: String; let content: String }
    struct Case: Decodable {
        let file: String
        let conversation: String
        let add_generation_prompt: Bool
        let messages: [Message]
        let text: String?
        let error: String?
    }

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/templates/fetched").path

    func testEveryTemplateRendersIdenticallyOrIsRefusedByName() throws {
        let path = Self.folder + "/differential.json"
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path),
                          "\(path) is absent (Tests/Fixtures/templates/make_golden.py writes it)")
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        let date = ISO8601DateFormatter().date(from: "2025-03-14T00:00:00Z")!
        var identical = 0, refused = 0, bothFail = 0
        var constructs: [String: Int] = [:]
        for c in cases {
            let label = "\(c.file) \(c.conversation) add_generation_prompt=\(c.add_generation_prompt)"
            let context: [String: JinjaValue] = [
                "messages": .list(c.messages.map { .dict(JinjaDict([("role", .string($0.role)), ("content", .string($0.content))])) }),
                "add_generation_prompt": .bool(c.add_generation_prompt), "tools": .none, "documents": .none,
                "bos_token": .string("<s>"), "eos_token": .string("</s>"),
            ]
            let source = try String(contentsOfFile: Self.folder + "/llama.cpp/" + c.file, encoding: .utf8)
            do {
                let got = try JinjaTemplate(source, name: c.file).render(context, now: date, timeZone: TimeZone(identifier: "UTC")!)
                guard let expected = c.text else {
                    XCTFail("\(label): transformers failed (\(c.error ?? "")) but the interpreter rendered \(got.debugDescription)")
                    continue
                }
                XCTAssertEqual(Array(got.utf8), Array(expected.utf8), "\(label): got \(got.debugDescription)")
                identical += Array(got.utf8) == Array(expected.utf8) ? 1 : 0
            } catch let error as JinjaError {
                if c.text == nil { bothFail += 1; continue }
                guard case let .unsupported(_, _, construct) = error else {
                    XCTFail("\(label): transformers rendered it, the interpreter failed: \(error)")
                    continue
                }
                refused += 1
                constructs[construct, default: 0] += 1
            }
        }
        print("differential: \(cases.count) cases, \(identical) identical, \(refused) refused by name \(constructs), \(bothFail) fail in both")
        XCTAssertGreaterThan(identical, cases.count / 2)
    }
}
