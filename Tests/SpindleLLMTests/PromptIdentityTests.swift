import SpindleModel
import Testing
@testable import SpindleLLM

/// Expected digests are published test vectors or were computed with `printf '%s' TEXT | sha256sum`.
@Suite struct PromptIdentityTests {
    @Test func sha256MatchesKnownVectors() {
        #expect(PromptIdentity.sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(PromptIdentity.sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            PromptIdentity.sha256("The quick brown fox jumps over the lazy dog")
                == "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592")
        // UTF-8 bytes, not UTF-16 or scalars.
        #expect(PromptIdentity.sha256("héllo wörld ✓") == "c2a59c71097b678dc5af2eb1f98ddc575b63948b0fa6740071a945673aaada4d")
    }

    @Test func implicitIDIsTwelveHexDigits() {
        #expect(
            PromptIdentity.implicitID(hash: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
                == "implicit-ba7816bf8f01")
    }

    @Test func explicitIDAndVersion() throws {
        let prompt = try #require(
            extract([
                attr("gen_ai.operation.name", "chat"), attr("gen_ai.request.model", "gpt-4o"),
                attr("gen_ai.prompt.name", "greeter"), attr("gen_ai.prompt.version", "12"),
                attr("gen_ai.prompt.variable.name", "Ada"), attr("gen_ai.prompt.variable.place", "London"),
                attr("gen_ai.system_instructions", "Greet the user."),
            ])?.prompt)
        #expect(prompt.id == "greeter")
        #expect(prompt.version == "12")
        #expect(prompt.versionHash == "12")
        #expect(prompt.template == nil)
        #expect(prompt.variables.map(\.name) == ["name", "place"])
        #expect(prompt.variables.map(\.value) == ["Ada", "London"])
        #expect(prompt.isImplicit == false)
    }

    @Test func explicitIDWithoutVersionIsVersionedByTheTemplateHash() throws {
        let prompt = try #require(
            extract([
                attr("openinference.span.kind", "LLM"), attr("prompt.id", "greeter"),
                attr("llm.prompt_template.template", "Hello {name}, welcome to {place}."),
                attr("llm.prompt_template.variables", #"{"name":"Ada","place":"London"}"#),
            ])?.prompt)
        #expect(prompt.id == "greeter")
        #expect(prompt.version == nil)
        #expect(prompt.versionHash == "40c114ebb40022eb877ee484e04a79524b7b4562f224ee335e6d5b1e128e75d7")
        #expect(prompt.template == "Hello {name}, welcome to {place}.")
        #expect(prompt.variables.map(\.name) == ["name", "place"])
        #expect(prompt.isImplicit == false)
    }

    @Test func explicitIDWithNothingElseIsUnversioned() {
        let prompt = extract([attr("openinference.span.kind", "LLM"), attr("prompt.id", "greeter")])?.prompt
        #expect(prompt == PromptReference(id: "greeter", versionHash: "unversioned"))
    }

    @Test func unnamedTemplateIsItsOwnImplicitPrompt() {
        let prompt = extract([
            attr("openinference.span.kind", "LLM"), attr("llm.prompt_template.template", "Hello {name}, welcome to {place}."),
            attr("llm.input_messages.0.message.role", "system"), attr("llm.input_messages.0.message.content", "Ignored: the template wins"),
        ])?.prompt
        #expect(
            prompt
                == PromptReference(
                    id: "implicit-40c114ebb400", versionHash: "40c114ebb40022eb877ee484e04a79524b7b4562f224ee335e6d5b1e128e75d7",
                    template: "Hello {name}, welcome to {place}.", isImplicit: true))
    }

    @Test func implicitPromptFromSystemInstructions() {
        let prompt = extract([
            attr("gen_ai.operation.name", "chat"), attr("gen_ai.request.model", "gpt-4o"),
            attr("gen_ai.system_instructions", "Be brief."),
            attr("gen_ai.input.messages", #"[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]"#),
        ])?.prompt
        #expect(
            prompt
                == PromptReference(
                    id: "implicit-213c22ed7234", versionHash: "213c22ed7234eb11116e1e88f314c73cb3a019b5c87fe224b6ce5665bd9ec50e",
                    isImplicit: true))
    }

    @Test func sameInstructionsSamePromptDifferentInstructionsAnother() {
        func promptID(_ system: String, _ question: String) -> String? {
            extract([
                attr("openinference.span.kind", "LLM"), attr("llm.input_messages.0.message.role", "system"),
                attr("llm.input_messages.0.message.content", system), attr("llm.input_messages.1.message.role", "user"),
                attr("llm.input_messages.1.message.content", question),
            ])?.prompt?.id
        }
        #expect(promptID("Be brief.", "What is 2+2?") == "implicit-213c22ed7234")
        #expect(promptID("Be brief.", "And 3+3?") == "implicit-213c22ed7234")
        #expect(promptID("Be terse.", "What is 2+2?") == "implicit-28c7339ead79")
    }

    @Test func noSystemAndNoTemplateMeansNoPrompt() throws {
        let call = try #require(
            extract([
                attr("gen_ai.operation.name", "chat"), attr("gen_ai.request.model", "gpt-4o"),
                attr("gen_ai.input.messages", #"[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]"#),
            ]))
        #expect(call.systemInstructions == nil)
        #expect(call.prompt == nil)
    }
}
