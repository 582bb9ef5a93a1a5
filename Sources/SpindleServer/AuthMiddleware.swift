import Hummingbird
import HTTPTypes
import NIOCore

/// Checks every HTTP request but `/healthz` and `/metrics` with the `Authenticator`, and hands the project it decided
/// to the handlers in `AuthMiddleware.projectHeader` (a client cannot set it: it is always replaced).
struct AuthMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let authenticator: Authenticator

    /// The project the request was authorized for; absent when auth is off and none was named.
    static let projectHeader = HTTPField.Name("x-spindle-authorized-project")!
    /// With a key, the id of its project.
    static let projectIDHeader = HTTPField.Name("x-spindle-authorized-project-id")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if request.uri.path == "/healthz" || request.uri.path == "/metrics" { return try await next(request, context) }
        let requested =
            request.headers[OTLPHTTPReceiver.projectHeader] ?? request.uri.queryParameters["project"].map(String.init)
        switch authenticator.authorize(authorization: request.headers[.authorization], project: requested) {
        case .allow(let project, let projectID):
            var head = request.head
            head.headerFields[Self.projectHeader] = project
            head.headerFields[Self.projectIDHeader] = projectID
            return try await next(Request(head: head, body: request.body), context)
        case .unauthenticated(let message):
            return deny(request, .unauthorized, .unauthenticated, message, retryAfter: nil)
        case .forbidden(let message):
            return deny(request, .forbidden, .permissionDenied, message, retryAfter: nil)
        case .rateLimited(let seconds):
            return deny(
                request, .tooManyRequests, .resourceExhausted, "rate limit exceeded; retry in \(seconds)s", retryAfter: seconds)
        }
    }

    /// OTLP requests get a `google.rpc.Status` in their own encoding; everything else `{"error":{"message"}}`.
    private func deny(
        _ request: Request, _ status: HTTPResponse.Status, _ code: GRPCStatusCode, _ message: String, retryAfter: Int?
    ) -> Response {
        var response: Response
        if request.uri.path == "/v1/traces" {
            let encoding = MessageEncoding(contentType: request.headers[.contentType]) ?? .json
            response = Response(
                status: status, headers: [.contentType: encoding.contentType],
                body: ResponseBody(
                    byteBuffer: ByteBuffer(bytes: encoding.status(code: code, message: message, retryAfterSeconds: retryAfter))))
        } else {
            response = VendorError(status: status, message: message).response
        }
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }
}
