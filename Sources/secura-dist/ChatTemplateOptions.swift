// --chat-template and --template-date, shared by the commands that render prompts (train, eval,
// generate, score; `experiment forgetting` uses the model's template): the template to use instead of
// the model's, and the date that templates printing "today" (Llama 3.2's strftime_now) should print.
import ArgumentParser
import Foundation
import SecuraData
import SecuraTokenizer

struct ChatTemplateOptions: ParsableArguments {
    @Option(help: "Jinja chat template file to use instead of the model's (tokenizer_config.json / chat_template.jinja / GGUF tokenizer.chat_template).")
    var chatTemplate: String?

    @Option(help: "Date (YYYY-MM-DD, UTC) that strftime_now gives templates which print today's date (default: today), for reproducible renderings.")
    var templateDate: String?

    /// The pinned date, parsed.
    func date() throws -> Date? {
        guard let text = templateDate else { return nil }
        let parser = DateFormatter()
        parser.locale = Locale(identifier: "en_US_POSIX")
        parser.timeZone = TimeZone(identifier: "UTC")
        parser.dateFormat = "yyyy-MM-dd"
        guard let date = parser.date(from: text), parser.string(from: date) == text else {
            throw ValidationError("--template-date: '\(text)' is not a date in YYYY-MM-DD form")
        }
        return date
    }

    /// The override template's text, read from the file.
    func source() throws -> String? {
        guard let path = chatTemplate else { return nil }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ValidationError("--chat-template: cannot read '\(path)': \(error.localizedDescription)")
        }
    }

    func apply(to options: inout PromptOptions) throws {
        options.chatTemplate = try source()
        options.chatTemplateOrigin = chatTemplate
        options.templateDate = try date()
    }

    /// The chat template to render with: the override, else the tokenizer's.
    func template(for tokenizer: Tokenizer) throws -> ChatTemplate {
        try tokenizer.chatTemplate(override: try source(), overrideOrigin: chatTemplate, date: try date())
    }
}
