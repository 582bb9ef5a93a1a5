import SpindleModel
import Testing
@testable import SpindleLLM

/// Ingest extracts only the figures (`.figures`); reading a call back extracts it in full. Both must agree
/// on everything stored, above all on the implicit prompt found by scanning for the system message.
@Suite struct FiguresDetailTests {
    static let inputs: [String] = [
        #"[{"role":"system","parts":[{"type":"text","content":"Be brief."}]},{"role":"user","parts":[{"type":"text","content":"Hi"}]}]"#,
        // Escaped quotes and backslashes in the user text, nested values to skip, whitespace.
        #"[ {"role" : "user", "parts": [{"type":"text","content":"say \"hi\" \\ now {[,]}"}], "extra": {"a":[1,2.5e3,true,null]}},"#
            + #" {"parts":[{"type":"text","content":"Sys \"quoted\""}], "role":"system"} ]"#,
        // Two system parts, a developer message, OpenAI-shaped content.
        #"[{"role":"developer","content":"Dev rules."},{"role":"system","parts":[{"type":"text","content":"A"},{"type":"text","content":"B"}]}]"#,
        // No system message at all.
        #"[{"role":"user","parts":[{"type":"text","content":"only a question"}]}]"#,
        // Unicode escapes in the system text.
        #"[{"role":"system","parts":[{"type":"text","content":"caf\u00e9 \ud83d\ude00"}]}]"#,
    ]

    @Test(arguments: inputs)
    func ingestAndReadAgree(input: String) throws {
        let span = llmSpan([
            Attribute("gen_ai.operation.name", .string("chat")),
            Attribute("gen_ai.request.model", .string("gpt-4o-mini")),
            Attribute("gen_ai.usage.input_tokens", .int(10)),
            Attribute("gen_ai.usage.output_tokens", .int(5)),
            Attribute("gen_ai.input.messages", .string(input)),
            Attribute(
                "gen_ai.output.messages",
                .string(#"[{"role":"assistant","parts":[{"type":"text","content":"ok"}]}]"#)),
        ])
        let figures = try #require(extractor.extract(span, detail: .figures))
        let full = try #require(extractor.extract(span, detail: .full))
        #expect(figures.prompt == full.prompt)
        #expect(figures.systemInstructions == full.systemInstructions)
        #expect(figures.tokens == full.tokens)
        #expect(figures.cost == full.cost)
        #expect(figures.model == full.model)
        // The figures leave the messages out; the full call has them.
        #expect(figures.input.isEmpty && figures.output.isEmpty)
        #expect(!full.input.isEmpty && full.output.map(\.text) == ["ok"])
    }

    @Test func alternatingPromptsKeepTheirOwnVersions() throws {
        // The scan and the hash remember the last prompt: runs of one prompt, then switches, then the
        // same length with other bytes.
        let texts = ["Be brief.", "Be brief.", "Be kind!!", "Be brief.", "Be kind!!", "Be kind!!", "Be brief."]
        for text in texts {
            let input = #"[{"role":"system","parts":[{"type":"text","content":"\#(text)"}]},{"role":"user","content":"q"}]"#
            let span = llmSpan([
                Attribute("gen_ai.operation.name", .string("chat")), Attribute("gen_ai.request.model", .string("gpt-4o-mini")),
                Attribute("gen_ai.usage.input_tokens", .int(10)), Attribute("gen_ai.usage.output_tokens", .int(5)),
                Attribute("gen_ai.input.messages", .string(input)),
            ])
            let call = try #require(extractor.extract(span, detail: .figures))
            #expect(call.systemInstructions == text)
            #expect(call.prompt?.versionHash == PromptIdentity.sha256(text))
        }
    }

    @Test func theScanFindsTheSameSystemTextAsTheParser() throws {
        #expect(try SystemTextScan.systemText(in: Self.inputs[1]).get() == "Sys \"quoted\"")
        #expect(try SystemTextScan.systemText(in: Self.inputs[2]).get() == "Dev rules.\nA\nB")
        #expect(try SystemTextScan.systemText(in: Self.inputs[3]).get() == nil)
        #expect(try SystemTextScan.systemText(in: Self.inputs[4]).get() == "café 😀")
    }

    @Test func malformedJSONFailsSoTheCallerParsesFully() throws {
        for text in [#"{"role":"system"}"#, #"[{"role":"system","parts":[}]"#, #"["unterminated"#, "not json", "[1,2]"] {
            if case .success = SystemTextScan.systemText(in: text) { Issue.record("\(text) scanned as valid") }
        }
    }

    @Test func missingTokensStillGetEstimatedFromTheMessagesAtIngest() throws {
        let span = llmSpan([
            Attribute("gen_ai.operation.name", .string("chat")),
            Attribute("gen_ai.request.model", .string("gpt-4o-mini")),
            Attribute("gen_ai.input.messages", .string(Self.inputs[0])),
            Attribute("gen_ai.output.messages", .string(#"[{"role":"assistant","parts":[{"type":"text","content":"12345678"}]}]"#)),
        ])
        let figures = try #require(extractor.extract(span, detail: .figures))
        #expect(figures.tokens.estimated)
        #expect(figures.tokens.output == 2)  // 8 characters at 4 a token
        #expect(figures.tokens == (try #require(extractor.extract(span))).tokens)
    }
}
