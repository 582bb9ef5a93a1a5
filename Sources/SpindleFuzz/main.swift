// libFuzzer entry point for the decoders that face the network: OTLP protobuf, OTLP JSON and the JSON
// parser. Build and run with `make fuzz` (release, -sanitize=fuzzer,address, its own scratch path).
// A plain `swift build` makes an executable that does nothing.
import SpindleCodec

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    if let decoded = try? OTLPProtobuf.decodeTraces(bytes) {
        // What decodes must encode and decode again to the same data.
        let again = try? OTLPProtobuf.decodeTraces(OTLPProtobuf.encodeTraces(decoded.traces))
        precondition(again?.traces == decoded.traces, "protobuf round trip changed the data")
    }
    if let decoded = try? OTLPJSON.decodeTraces(bytes) {
        let again = try? OTLPJSON.decodeTraces(OTLPJSON.encodeTraces(decoded.traces))
        precondition(again?.traces == decoded.traces, "JSON round trip changed the data")
    }
    _ = try? JSONValue.parse(bytes)
    return 0
}
