// --chat-template and --template-date, shared by the commands that render prompts (train, eval,
// generate, score; `experiment forgetting` uses the model's template): the template to use instead of
// the model's, and the date that templates printing "today" (Llama 3.2's strftime_now) should print.
import ArgumentParser
import Foundation
import SecuraRun

struct ChatTemplateOptions: ParsableArguments {
    @Option(help: "Jinja chat template file to use instead of the model's (tokenizer_config.json / chat_template.jinja / GGUF tokenizer.chat_template).")
    var chatTemplate: String?

    @Option(help: "Date (YYYY-MM-DD, UTC) that strftime_now gives templates which print today's date (default: today), for reproducible renderings.")
    var templateDate: String?

    /// The template file and date as prompt settings (chat and length are the command's).
    var settings: PromptSettings {
        var p = PromptSettings()
        p.chatTemplateFile = chatTemplate
        p.templateDate = templateDate
        return p
    }

    func validate() throws {
        do {
            _ = try PromptSettings.date(templateDate)
        } catch let error as RunSettingError {
            throw ValidationError(error.flagDescription)
        }
    }
}
