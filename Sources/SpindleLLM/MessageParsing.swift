import SpindleCodec
import SpindleModel

/// Messages from the shapes conventions use: OTel GenAI parts (`{role, parts:[…]}`), OpenAI chat
/// (`{role, content, tool_calls}`), request bodies (`{messages:[…]}`), response bodies (`{choices:[…]}`),
/// and plain text.
enum MessageParsing {
    /// Messages from any of the JSON shapes; a value that is none of them becomes one message of
    /// `defaultRole` holding its text. Empty text gives no message.
    static func messages(_ json: JSONValue, defaultRole: String) -> [LLMMessage] {
        switch json {
        case .array(let items):
            let parsed = items.compactMap { message($0, defaultRole: defaultRole) }
            if !parsed.isEmpty { return parsed }
            // A bare list of choices: what Braintrust logs as a chat completion's output.
            if items.contains(where: { $0["message"] != nil }) {
                return messages(.object([("choices", json)]), defaultRole: defaultRole)
            }
        case .object:
            if let list = json["messages"]?.arrayValue { return messages(.array(list), defaultRole: defaultRole) }
            if let choices = json["choices"]?.arrayValue {
                return choices.compactMap { choice in
                    let inner = choice["message"] ?? choice["delta"] ?? choice
                    guard var parsed = message(inner, defaultRole: defaultRole) ?? textMessage(choice["text"], defaultRole)
                    else { return nil }
                    parsed.finishReason = parsed.finishReason ?? choice["finish_reason"]?.stringValue
                    return parsed
                }
            }
            if let parsed = message(json, defaultRole: defaultRole) { return [parsed] }
        default:
            break
        }
        return textMessage(json, defaultRole).map { [$0] } ?? []
    }

    private static func textMessage(_ json: JSONValue?, _ role: String) -> LLMMessage? {
        guard let json else { return nil }
        let text = json.text
        return text.isEmpty ? nil : LLMMessage(role: role, text: text)
    }

    /// One message object in OTel parts form or OpenAI form; nil for anything else.
    static func message(_ json: JSONValue, defaultRole: String) -> LLMMessage? {
        guard case .object = json else { return nil }
        let role = json["role"]?.stringValue ?? defaultRole
        var message = LLMMessage(role: role, text: "")
        message.finishReason = json["finish_reason"]?.stringValue
        message.toolCallID = json["tool_call_id"]?.stringValue
        var texts: [String] = []
        if let parts = json["parts"]?.arrayValue {
            for part in parts {
                switch part["type"]?.stringValue {
                case "tool_call":
                    message.toolCalls.append(
                        ToolCall(
                            id: part["id"]?.stringValue, name: part["name"]?.stringValue ?? "",
                            arguments: part["arguments"]?.text ?? ""))
                case "tool_call_response":
                    message.toolCallID = message.toolCallID ?? part["id"]?.stringValue
                    if let response = part["response"] { texts.append(response.text) }
                default:
                    if let content = part["content"] ?? part["text"] { texts.append(content.text) }
                }
            }
        } else if let content = json["content"] {
            texts.append(contentText(content))
        } else if json["tool_calls"] == nil {
            return nil
        }
        for call in json["tool_calls"]?.arrayValue ?? [] {
            let function = call["function"] ?? call
            message.toolCalls.append(
                ToolCall(
                    id: call["id"]?.stringValue, name: function["name"]?.stringValue ?? "",
                    arguments: function["arguments"]?.text ?? ""))
        }
        message.text = texts.filter { !$0.isEmpty }.joined(separator: "\n")
        return message
    }

    /// OpenAI content: a string, or a list of parts of which the text ones count.
    private static func contentText(_ content: JSONValue) -> String {
        guard let parts = content.arrayValue else { return content.text }
        return parts.compactMap { part -> String? in
            if let text = part.stringValue { return text }
            guard part["type"]?.stringValue ?? "text" == "text" else { return nil }
            return (part["text"] ?? part["content"])?.text
        }.joined(separator: "\n")
    }

    /// Messages from flattened indexed attributes (`llm.input_messages.0.message.role`, or OpenLLMetry's
    /// `gen_ai.prompt.0.role`): `fieldPrefix` is what precedes `role`/`content` inside each group.
    static func indexed(
        _ groups: [(index: Int, fields: [String: AttributeValue])], fieldPrefix: String, defaultRole: String
    ) -> [LLMMessage] {
        groups.compactMap { group -> LLMMessage? in
            let fields = group.fields
            func field(_ name: String) -> AttributeValue? { fields[fieldPrefix + name] }
            var texts: [String] = []
            if let content = field("content") { texts.append(SpanAttributes.json(content).text) }
            // OpenInference multi-part content: message.contents.N.message_content.text
            let parts = fields.keys
                .filter { $0.hasPrefix(fieldPrefix + "contents.") && $0.hasSuffix(".message_content.text") }
                .sorted { partIndex($0) < partIndex($1) }
            texts += parts.compactMap { fields[$0].flatMap(SpanAttributes.string) }
            var message = LLMMessage(
                role: field("role").flatMap(SpanAttributes.string) ?? defaultRole,
                text: texts.filter { !$0.isEmpty }.joined(separator: "\n"))
            message.finishReason = field("finish_reason").flatMap(SpanAttributes.string)
            message.toolCallID = field("tool_call_id").flatMap(SpanAttributes.string)
            // Tool calls: message.tool_calls.N.tool_call.function.name|arguments (OpenInference),
            // tool_calls.N.name|arguments (OpenLLMetry).
            var calls: [Int: (id: String?, name: String?, arguments: String?)] = [:]
            for (key, value) in fields where key.hasPrefix(fieldPrefix + "tool_calls.") {
                let rest = key.dropFirst((fieldPrefix + "tool_calls.").count)
                guard let dot = rest.firstIndex(of: "."), let index = Int(rest[..<dot]) else { continue }
                let name = rest[rest.index(after: dot)...]
                let text = SpanAttributes.string(value) ?? SpanAttributes.json(value).text
                if name.hasSuffix("function.name") || name == "name" { calls[index, default: (nil, nil, nil)].name = text }
                if name.hasSuffix("function.arguments") || name == "arguments" {
                    calls[index, default: (nil, nil, nil)].arguments = text
                }
                if name.hasSuffix("tool_call.id") || name == "id" { calls[index, default: (nil, nil, nil)].id = text }
            }
            message.toolCalls = calls.sorted { $0.key < $1.key }.map {
                ToolCall(id: $0.value.id, name: $0.value.name ?? "", arguments: $0.value.arguments ?? "")
            }
            return message.text.isEmpty && message.toolCalls.isEmpty && field("role") == nil ? nil : message
        }
    }

    private static func partIndex(_ key: String) -> Int {
        let parts = key.split(separator: ".")
        guard let position = parts.firstIndex(of: "contents"), position + 1 < parts.count else { return 0 }
        return Int(parts[position + 1]) ?? 0
    }

    /// The text of the system (or developer) messages, nil when there is none.
    static func systemText(of messages: [LLMMessage]) -> String? {
        let texts = messages.filter { $0.role == "system" || $0.role == "developer" }.map(\.text).filter { !$0.isEmpty }
        return texts.isEmpty ? nil : texts.joined(separator: "\n")
    }

    /// OTel GenAI system instructions: a list of parts, or plain text.
    static func instructions(_ json: JSONValue) -> String? {
        let text: String
        if let parts = json.arrayValue {
            text = parts.compactMap { part in part.stringValue ?? (part["content"] ?? part["text"])?.text }
                .joined(separator: "\n")
        } else {
            text = json.text
        }
        return text.isEmpty ? nil : text
    }
}
