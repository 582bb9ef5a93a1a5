/// The entity that produced spans (a service, a process, a host), described by attributes.
public struct Resource: Hashable, Sendable {
    public var attributes: [Attribute]
    public var droppedAttributesCount: UInt32

    public init(attributes: [Attribute] = [], droppedAttributesCount: UInt32 = 0) {
        self.attributes = attributes
        self.droppedAttributesCount = droppedAttributesCount
    }

    /// `service.name`, when set to a string.
    public var serviceName: String? { attributes[key: "service.name"]?.stringValue }
}

/// The instrumentation library that produced spans.
public struct InstrumentationScope: Hashable, Sendable {
    public var name: String
    public var version: String
    public var attributes: [Attribute]
    public var droppedAttributesCount: UInt32

    public init(name: String = "", version: String = "", attributes: [Attribute] = [], droppedAttributesCount: UInt32 = 0) {
        self.name = name
        self.version = version
        self.attributes = attributes
        self.droppedAttributesCount = droppedAttributesCount
    }
}

public struct ScopeSpans: Hashable, Sendable {
    public var scope: InstrumentationScope
    public var spans: [Span]
    public var schemaURL: String

    public init(scope: InstrumentationScope = InstrumentationScope(), spans: [Span], schemaURL: String = "") {
        self.scope = scope
        self.spans = spans
        self.schemaURL = schemaURL
    }
}

public struct ResourceSpans: Hashable, Sendable {
    public var resource: Resource
    public var scopeSpans: [ScopeSpans]
    public var schemaURL: String

    public init(resource: Resource = Resource(), scopeSpans: [ScopeSpans], schemaURL: String = "") {
        self.resource = resource
        self.scopeSpans = scopeSpans
        self.schemaURL = schemaURL
    }
}

/// Spans grouped by resource and scope, as OTLP sends them (`ExportTraceServiceRequest`, `TracesData`).
public struct TracesData: Hashable, Sendable {
    public var resourceSpans: [ResourceSpans]

    public init(resourceSpans: [ResourceSpans] = []) {
        self.resourceSpans = resourceSpans
    }

    public var spanCount: Int {
        resourceSpans.reduce(0) { total, resource in total + resource.scopeSpans.reduce(0) { $0 + $1.spans.count } }
    }

    /// Every span with the resource and scope it came with.
    public var flattened: [(resource: ResourceSpans, scope: ScopeSpans, span: Span)] {
        resourceSpans.flatMap { resource in
            resource.scopeSpans.flatMap { scope in scope.spans.map { (resource, scope, $0) } }
        }
    }
}
