import Hummingbird
import SpindleStore

/// The vendor logging APIs Spindle speaks on its HTTP port, with their paths.
struct VendorAPIs: Sendable {
    let evalGuard: EvalGuardAPI
    let deepRails: DeepRailsAPI
    let basalt: BasaltAPI

    init(store: SpanStore, maxBodyBytes: Int) {
        let ingest = VendorIngest(store: store, maxBodyBytes: maxBodyBytes)
        let readers = ReaderPool(store: store, capacity: 2)
        evalGuard = EvalGuardAPI(ingest: ingest)
        deepRails = DeepRailsAPI(ingest: ingest, readers: readers)
        basalt = BasaltAPI(ingest: ingest, readers: readers)
    }

    func register(on router: Router<BasicRequestContext>) {
        router.post("/api/v1/monitoring") { request, _ in await evalGuard.monitoring(request, project: project(request)) }
        router.post("/api/v1/prompts/analytics") { request, _ in
            await evalGuard.promptAnalytics(request, project: project(request))
        }
        router.post("/monitor/log") { request, _ in await basalt.log(request, project: project(request)) }
        router.post("/monitor/{monitor_id}/events") { request, context in
            await deepRails.create(request, monitorID: context.parameters.get("monitor_id") ?? "", project: project(request))
        }
        router.get("/monitor/{monitor_id}/events/{event_id}") { request, context in
            await deepRails.read(
                monitorID: context.parameters.get("monitor_id") ?? "", eventID: context.parameters.get("event_id") ?? "",
                project: request.headers[AuthMiddleware.projectHeader])
        }
    }

    /// The project a request writes to: its key's (or, auth off, the one it named), else `default`.
    private func project(_ request: Request) -> String {
        request.headers[AuthMiddleware.projectHeader] ?? "default"
    }
}
