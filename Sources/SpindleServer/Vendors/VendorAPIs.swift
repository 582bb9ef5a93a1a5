import Hummingbird
import SpindleMetrics
import SpindleStore

/// The vendor logging APIs Spindle speaks on its HTTP port, with their paths.
struct VendorAPIs: Sendable {
    let evalGuard: EvalGuardAPI
    let deepRails: DeepRailsAPI
    let basalt: BasaltAPI
    let braintrust: BraintrustAPI
    let prompts: PromptRegistration

    init(store: SpanStore, maxBodyBytes: Int, metrics: SpindleMetrics? = nil) {
        let ingest = VendorIngest(store: store, maxBodyBytes: maxBodyBytes, metrics: metrics)
        let readers = ReaderPool(store: store, capacity: 2)
        evalGuard = EvalGuardAPI(ingest: ingest)
        deepRails = DeepRailsAPI(ingest: ingest, readers: readers)
        basalt = BasaltAPI(ingest: ingest, readers: readers)
        braintrust = BraintrustAPI(ingest: ingest)
        prompts = PromptRegistration(ingest: ingest)
    }

    func register(on router: Router<BasicRequestContext>) {
        router.post("/api/v1/monitoring") { request, _ in await evalGuard.monitoring(request, project: project(request)) }
        router.post("/api/v1/prompts/analytics") { request, _ in
            await evalGuard.promptAnalytics(request, project: project(request))
        }
        router.post("/v1/project_logs/{project_id}/insert") { request, context in
            let projectID = context.parameters.get("project_id") ?? ""
            // Braintrust names the project in the path: with a key it must be the key's project (its id
            // or name); without auth, the path names the project.
            if let authorizedID = request.headers[AuthMiddleware.projectIDHeader],
                let authorized = request.headers[AuthMiddleware.projectHeader], projectID != authorizedID,
                projectID != authorized
            {
                return VendorError(
                    status: .forbidden, message: "this key belongs to project \(authorized) (\(authorizedID)), not \(projectID)"
                ).response
            }
            let project = request.headers[AuthMiddleware.projectIDHeader] != nil
                ? request.headers[AuthMiddleware.projectHeader]! : (request.headers[AuthMiddleware.projectHeader] ?? projectID)
            return await braintrust.insert(request, projectID: projectID, project: project)
        }
        router.post("/api/v1/prompts") { request, _ in await prompts.register(request) }
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
