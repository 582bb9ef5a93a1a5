/// Token counts for calls whose spans lack them (streaming calls often do): estimated from the text at
/// about four characters per token, the usual rule of thumb for English with GPT-style tokenizers, and
/// marked `estimated`.
public enum TokenEstimate {
    public static let charactersPerToken = 4.0

    /// Estimated tokens of `text`: 0 for empty text, else at least 1.
    public static func tokens(in text: String) -> Int {
        let characters = text.unicodeScalars.count
        return characters == 0 ? 0 : max(1, Int((Double(characters) / charactersPerToken).rounded(.up)))
    }

    /// Fills in missing input/output counts from the messages, and a missing total from the parts.
    static func fill(_ call: inout LLMCall) {
        if !call.isAggregate {
            if call.tokens.input == nil, !call.input.isEmpty || call.systemInstructions != nil {
                var text = call.input.map(\.text).joined(separator: "\n")
                // Instructions given apart from the messages are sent too.
                if let system = call.systemInstructions,
                    !call.input.contains(where: { $0.role == "system" || $0.role == "developer" })
                {
                    text += "\n" + system
                }
                call.tokens.input = tokens(in: text) + call.input.reduce(0) { $0 + toolCallTokens($1) }
                call.tokens.estimated = true
            }
            if call.tokens.output == nil, !call.output.isEmpty {
                call.tokens.output =
                    tokens(in: call.output.map(\.text).joined(separator: "\n"))
                    + call.output.reduce(0) { $0 + toolCallTokens($1) }
                call.tokens.estimated = true
            }
        }
        if call.tokens.total == nil, call.tokens.input != nil || call.tokens.output != nil {
            call.tokens.total = (call.tokens.input ?? 0) + (call.tokens.output ?? 0)
        }
    }

    private static func toolCallTokens(_ message: LLMMessage) -> Int {
        message.toolCalls.reduce(0) { $0 + tokens(in: $1.name) + tokens(in: $1.arguments) }
    }
}
