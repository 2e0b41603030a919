using System.Text.Json.Nodes;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Cadre.Workflows;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Cadre.Server.Workflows;

/// <summary>The query parameters of a workflow list.</summary>
/// <param name="Search">Words that must all appear in the name, title or description.</param>
/// <param name="Active">Only workflows whose triggers are on (true) or off (false).</param>
/// <param name="Type"><c>manual</c>, <c>event</c>, <c>webhook</c> or <c>schedule</c>.</param>
/// <param name="EventType">Only event workflows started by this event type.</param>
/// <param name="Persona">Only workflows that use this persona (ID or name).</param>
/// <param name="Status"><c>active</c> (default), <c>deleted</c> (the bin) or <c>all</c>.</param>
/// <param name="Sort"><c>createdAt</c>, <c>updatedAt</c>, <c>name</c> or <c>title</c>, with a leading <c>-</c> for descending (default <c>-createdAt</c>).</param>
public sealed record WorkflowListQuery(
    [FromQuery(Name = "q")] string? Search,
    [FromQuery(Name = "active")] bool? Active,
    [FromQuery(Name = "type")] string? Type,
    [FromQuery(Name = "eventType")] string? EventType,
    [FromQuery(Name = "persona")] string? Persona,
    [FromQuery(Name = "status")] string? Status,
    [FromQuery(Name = "sort")] string? Sort)
{
    internal WorkflowQuery ToQuery() => new(Search, Active, Type, EventType, Persona, Status, Sort);
}

internal static class WorkflowEndpoints
{
    public const string YamlMediaType = "application/yaml";

    public static IEndpointRouteBuilder MapWorkflows(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/workspaces/{workspace}/workflows").WithTags("Workflows");

        group.MapGet("/", List)
            .WithName("ListWorkflows").WithSummary("List and filter workflows")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();
        group.MapPost("/", Create)
            .WithName("CreateWorkflow").WithSummary("Create a workflow")
            .WithDescription("Answers the whole definition: defaults filled, a persona pipeline expanded into steps, a graph laid out when none was given.")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithIdempotency().WithJsonBodyErrors().ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/export", Export)
            .WithName("ExportWorkflows").WithSummary("Export workflows as JSON or YAML")
            .WithDescription("format=json (default) or yaml; takes the filters of the list. Personas and teams are named, secrets referenced by name, never inlined.")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors()
            .Produces<JsonObject>(StatusCodes.Status200OK).Produces<string>(StatusCodes.Status200OK, YamlMediaType);
        var importLimit = app.ServiceProvider.GetRequiredService<IOptions<HttpOptions>>().Value.MaxImportBytes;
        group.MapPost("/import", Import)
            .WithName("ImportWorkflows").WithSummary("Import workflows from JSON or YAML")
            .WithDescription("mode=create-only (default) or upsert (by name); dryRun=true answers each item's diff and changes nothing. " +
                "The body is an export document (or an array of workflows), optionally with mapping: {personas, secrets, teams} renaming names of the source workspace.")
            // One Accepts for all: routing matches the content type against the last IAcceptsMetadata only.
            .Accepts<JsonObject>("application/json", YamlMediaType, "application/x-yaml", "text/yaml")
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                foreach (var (mediaType, content) in operation.RequestBody?.Content ?? new Dictionary<string, OpenApiMediaType>())
                {
                    if (mediaType != "application/json")
                    {
                        content.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The same document as YAML." };
                    }
                }

                return Task.CompletedTask;
            })
            .WithMetadata(new RequestSizeLimitAttribute(importLimit))
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithIdempotency().WithJsonBodyErrors();
        group.MapPost("/bulk-delete", BulkDelete)
            .WithName("BulkDeleteWorkflows").WithSummary("Move many workflows to the bin; each item succeeds or says why")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithIdempotency().WithJsonBodyErrors();

        group.MapGet("/{workflow}", Get)
            .WithName("GetWorkflow").WithSummary("Get a workflow by ID or name")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);
        group.MapPatch("/{workflow}", Update)
            .WithName("UpdateWorkflow").WithSummary("Change a workflow (JSON Merge Patch) as a new version")
            .WithDescription("Omitted fields stay; members set to null are removed; lists (steps) are replaced whole. Changing steps without a graph lays the graph out again. Honours If-Match.")
            .Accepts<WorkflowSpec>("application/merge-patch+json", "application/json")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        group.MapDelete("/{workflow}", Delete)
            .WithName("DeleteWorkflow").WithSummary("Move a workflow to the bin, or delete it for good")
            .WithDescription("Without permanent=true the workflow goes to the bin (restorable, its name free, its triggers silent). permanent=true deletes it and its history (admin).")
            .RequireWorkspaceRole(WorkspaceRole.Editor).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        group.MapPost("/{workflow}/restore", Restore)
            .WithName("RestoreWorkflow").WithSummary("Take a workflow out of the bin")
            .RequireWorkspaceRole(WorkspaceRole.Editor).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/{workflow}/duplicate", Duplicate)
            .WithName("DuplicateWorkflow").WithSummary("Copy a workflow (steps, persona pipeline, graph) under a new name, inactive")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithIdempotency().WithJsonBodyErrors().ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/{workflow}/rename", Rename)
            .WithName("RenameWorkflow").WithSummary("Give a workflow a new name (and title)")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        group.MapPost("/{workflow}/activate", Activate)
            .WithName("ActivateWorkflow").WithSummary("Turn a workflow's triggers on")
            .RequireWorkspaceRole(WorkspaceRole.Editor).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        group.MapPost("/{workflow}/deactivate", Deactivate)
            .WithName("DeactivateWorkflow").WithSummary("Turn a workflow's triggers off (manual runs still work)")
            .RequireWorkspaceRole(WorkspaceRole.Editor).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        group.MapGet("/{workflow}/versions", ListVersions)
            .WithName("ListWorkflowVersions").WithSummary("List a workflow's versions, newest first")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();
        group.MapGet("/{workflow}/versions/{version:int}", GetVersion)
            .WithName("GetWorkflowVersion").WithSummary("Get a workflow as it was at one version")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);
        group.MapGet("/{workflow}/diff", Diff)
            .WithName("DiffWorkflowVersions").WithSummary("The fields that differ between two versions")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors().ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);
        group.MapPost("/{workflow}/revert", Revert)
            .WithName("RevertWorkflow").WithSummary("Save an earlier version as the next one")
            .WithDescription("The current version stays in the history. Honours If-Match.")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        group.MapGet("/{workflow}/export", ExportOne)
            .WithName("ExportWorkflow").WithSummary("Export one workflow as JSON or YAML (an export document of one)")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors()
            .Produces<JsonObject>(StatusCodes.Status200OK).Produces<string>(StatusCodes.Status200OK, YamlMediaType);
        group.MapPost("/{workflow}/annotate", Annotate)
            .WithName("AnnotateWorkflowContext").WithSummary("Run the workflow's annotations against a context, as a run would before its first step")
            .WithDescription("Answers the enriched context and what each annotation wrote; 422 naming the annotation that could not be fetched. Makes the http annotations' requests.")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithJsonBodyErrors();
        group.MapGet("/{workflow}/webhook-token", GetWebhookToken)
            .WithName("GetWorkflowWebhookToken").WithSummary("The token a webhook calls this workflow with (editors and up)")
            .RequireWorkspaceRole(WorkspaceRole.Editor).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/{workflow}/webhook-token/rotate", RotateWebhookToken)
            .WithName("RotateWorkflowWebhookToken").WithSummary("Replace the webhook token; the old one stops working at once, or after gracePeriod")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithJsonBodyErrors();
        return app;
    }

    private static Task<Results<Ok<PagedResponse<WorkflowSummary>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery page, [AsParameters] WorkflowListQuery query, WorkspaceAccess access, WorkflowService workflows, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => workflows.ListAsync(access.Workspace.Id, query.ToQuery(), p, cancellationToken));

    private static async Task<Results<Created<WorkflowResponse>, ProblemHttpResult>> Create(
        WorkflowSpec request, WorkspaceAccess access, WorkflowService workflows, HttpResponse response, CancellationToken cancellationToken)
    {
        var result = await workflows.CreateAsync(access.Workspace.Id, request, access.Caller, cancellationToken);
        return result.Value is { } workflow ? Created(access, workflow, response) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<BulkResponse>, ProblemHttpResult>> BulkDelete(
        BulkDeleteWorkflowsRequest request, WorkspaceAccess access, WorkflowService workflows, CancellationToken cancellationToken)
    {
        var result = await workflows.BulkDeleteAsync(access.Workspace.Id, request, access.Caller, cancellationToken);
        return result.Value is { } bulk ? TypedResults.Ok(bulk) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<WorkflowResponse>, ProblemHttpResult>> Get(
        string workflow, WorkspaceAccess access, WorkflowService workflows, HttpResponse response, CancellationToken cancellationToken)
    {
        if (await workflows.GetAsync(access.Workspace.Id, workflow, cancellationToken) is not { } found)
        {
            return Problems.NotFound($"Workflow '{workflow}' not found.");
        }

        response.Headers.ETag = ETags.For(found.Version);
        return TypedResults.Ok(found);
    }

    private static async Task<Results<Ok<WorkflowResponse>, ProblemHttpResult>> Update(
        string workflow, JsonObject changes, WorkspaceAccess access, WorkflowService workflows, HttpContext http, CancellationToken cancellationToken) =>
        WithETag(await workflows.PatchAsync(access.Workspace.Id, workflow, changes, access.Caller, ETags.IfMatch(http.Request), cancellationToken), http.Response);

    private static async Task<Results<Ok<WorkflowResponse>, NoContent, ProblemHttpResult>> Delete(
        string workflow, [FromQuery(Name = "permanent")] bool? permanent, WorkspaceAccess access, WorkflowService workflows, HttpRequest request, CancellationToken cancellationToken)
    {
        if (permanent == true)
        {
            if (access.Role < WorkspaceRole.Admin)
            {
                return Problems.Forbidden($"Deleting a workflow for good needs role 'admin' or higher; you have '{access.Role.ToWireName()}'. Without permanent=true it goes to the bin.");
            }

            var purged = await workflows.PurgeAsync(access.Workspace.Id, workflow, cancellationToken);
            return purged.IsSuccess ? TypedResults.NoContent() : Problems.From(purged.Error!);
        }

        var result = await workflows.DeleteAsync(access.Workspace.Id, workflow, access.Caller, ETags.IfMatch(request), cancellationToken);
        return result.Value is { } deleted ? TypedResults.Ok(deleted) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<WorkflowResponse>, ProblemHttpResult>> Restore(
        string workflow, WorkspaceAccess access, WorkflowService workflows, HttpResponse response, CancellationToken cancellationToken) =>
        WithETag(await workflows.RestoreAsync(access.Workspace.Id, workflow, cancellationToken), response);

    private static async Task<Results<Created<WorkflowResponse>, ProblemHttpResult>> Duplicate(
        string workflow, DuplicateWorkflowRequest? request, WorkspaceAccess access, WorkflowService workflows, HttpResponse response, CancellationToken cancellationToken)
    {
        var result = await workflows.DuplicateAsync(access.Workspace.Id, workflow, request ?? new DuplicateWorkflowRequest(), access.Caller, cancellationToken);
        return result.Value is { } copy ? Created(access, copy, response) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<WorkflowResponse>, ProblemHttpResult>> Rename(
        string workflow, RenameWorkflowRequest request, WorkspaceAccess access, WorkflowService workflows, HttpContext http, CancellationToken cancellationToken) =>
        WithETag(await workflows.RenameAsync(access.Workspace.Id, workflow, request, access.Caller, ETags.IfMatch(http.Request), cancellationToken), http.Response);

    private static async Task<Results<Ok<WorkflowResponse>, ProblemHttpResult>> Activate(
        string workflow, WorkspaceAccess access, WorkflowService workflows, HttpContext http, CancellationToken cancellationToken) =>
        WithETag(await workflows.SetActiveAsync(access.Workspace.Id, workflow, true, access.Caller, ETags.IfMatch(http.Request), cancellationToken), http.Response);

    private static async Task<Results<Ok<WorkflowResponse>, ProblemHttpResult>> Deactivate(
        string workflow, WorkspaceAccess access, WorkflowService workflows, HttpContext http, CancellationToken cancellationToken) =>
        WithETag(await workflows.SetActiveAsync(access.Workspace.Id, workflow, false, access.Caller, ETags.IfMatch(http.Request), cancellationToken), http.Response);

    private static Task<Results<Ok<PagedResponse<WorkflowVersionSummary>>, ProblemHttpResult>> ListVersions(
        string workflow, [AsParameters] PageQuery page, WorkspaceAccess access, WorkflowService workflows, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => workflows.ListVersionsAsync(access.Workspace.Id, workflow, p, cancellationToken));

    private static async Task<Results<Ok<WorkflowVersionResponse>, ProblemHttpResult>> GetVersion(
        string workflow, int version, WorkspaceAccess access, WorkflowService workflows, CancellationToken cancellationToken)
    {
        var result = await workflows.GetVersionAsync(access.Workspace.Id, workflow, version, cancellationToken);
        return result.Value is { } found ? TypedResults.Ok(found) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<WorkflowDiffResponse>, ProblemHttpResult>> Diff(
        string workflow, [FromQuery(Name = "from")] int? from, [FromQuery(Name = "to")] int? to, WorkspaceAccess access, WorkflowService workflows, CancellationToken cancellationToken)
    {
        if (VersionRange.Check(from, to) is { } missing)
        {
            return missing;
        }

        var result = await workflows.DiffAsync(access.Workspace.Id, workflow, from!.Value, to!.Value, cancellationToken);
        return result.Value is { } diff ? TypedResults.Ok(diff) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<WorkflowResponse>, ProblemHttpResult>> Revert(
        string workflow, RevertWorkflowRequest request, WorkspaceAccess access, WorkflowService workflows, HttpContext http, CancellationToken cancellationToken) =>
        request.Version is not { } version
            ? Problems.Validation(new Dictionary<string, string[]> { ["version"] = ["Is required: the version to save again."] })
            : WithETag(await workflows.RevertAsync(access.Workspace.Id, workflow, version, access.Caller, ETags.IfMatch(http.Request), cancellationToken), http.Response);

    private static Task<Results<Ok<JsonObject>, ContentHttpResult, ProblemHttpResult>> Export(
        [FromQuery(Name = "format")] string? format, [AsParameters] WorkflowListQuery query, WorkspaceAccess access,
        WorkflowTransferService transfer, TimeProvider time, HttpResponse response, CancellationToken cancellationToken) =>
        ExportAsync(format, access, () => transfer.ExportAsync(access.Workspace.Id, access.Workspace.Name, query.ToQuery(), null, time.GetUtcNowTruncated(), cancellationToken),
            $"{access.Workspace.Name}-workflows", response);

    private static Task<Results<Ok<JsonObject>, ContentHttpResult, ProblemHttpResult>> ExportOne(
        string workflow, [FromQuery(Name = "format")] string? format, WorkspaceAccess access,
        WorkflowTransferService transfer, TimeProvider time, HttpResponse response, CancellationToken cancellationToken) =>
        ExportAsync(format, access, () => transfer.ExportAsync(access.Workspace.Id, access.Workspace.Name, null, workflow, time.GetUtcNowTruncated(), cancellationToken),
            $"{access.Workspace.Name}-{workflow}", response);

    private static async Task<Results<Ok<JsonObject>, ContentHttpResult, ProblemHttpResult>> ExportAsync(
        string? format, WorkspaceAccess access, Func<Task<ServiceResult<JsonObject>>> export, string fileName, HttpResponse response)
    {
        if (format is not (null or "json" or "yaml"))
        {
            return Problems.BadQuery(new Dictionary<string, string[]> { ["format"] = ["Must be json or yaml."] });
        }

        var result = await export();
        if (result.Value is not { } document)
        {
            return result.Error!.Kind == ServiceErrorKind.Validation ? Problems.BadQuery(result.Error.Errors!) : Problems.From(result.Error);
        }

        var yaml = format == "yaml";
        response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}.{(yaml ? "yaml" : "json")}\"";
        return yaml ? TypedResults.Text(JsonYaml.Serialize(document), YamlMediaType + "; charset=utf-8", System.Text.Encoding.UTF8) : TypedResults.Ok(document);
    }

    private static async Task<Results<Ok<ImportResponse>, ProblemHttpResult>> Import(
        [FromQuery(Name = "mode")] string? mode, [FromQuery(Name = "dryRun")] bool? dryRun, WorkspaceAccess access,
        WorkflowTransferService transfer, HttpRequest request, CancellationToken cancellationToken)
    {
        mode ??= "create-only";
        if (mode is not ("create-only" or "upsert"))
        {
            return Problems.BadQuery(new Dictionary<string, string[]> { ["mode"] = ["Must be create-only or upsert."] });
        }

        using var reader = new StreamReader(request.Body, System.Text.Encoding.UTF8);
        var body = await reader.ReadToEndAsync(cancellationToken);
        JsonNode? document;
        try
        {
            document = request.HasJsonContentType()
                ? JsonNode.Parse(body, documentOptions: new System.Text.Json.JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = JsonYaml.MaxDepth })
                : JsonYaml.Parse(body);
        }
        catch (System.Text.Json.JsonException ex)
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["body"] = [$"Is not valid JSON: {ex.Message.Split(" Path:")[0]}"] }, "The import cannot be read; nothing was changed.");
        }
        catch (JsonYamlException ex)
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["body"] = [ex.Message] }, "The import cannot be read; nothing was changed.");
        }

        var result = await transfer.ImportAsync(access.Workspace.Id, document, mode, dryRun == true, access.Caller, cancellationToken);
        return result.Value is { } report ? TypedResults.Ok(report) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<AnnotateResponse>, ProblemHttpResult>> Annotate(
        string workflow, AnnotateRequest? request, WorkspaceAccess access, WorkflowService workflows, AnnotationService annotations, CancellationToken cancellationToken)
    {
        if (await workflows.GetAsync(access.Workspace.Id, workflow, cancellationToken) is not { } found)
        {
            return Problems.NotFound($"Workflow '{workflow}' not found.");
        }

        var self = new JsonObject { ["id"] = found.Id, ["name"] = found.Name, ["title"] = found.Title, ["version"] = found.Version };
        var result = await annotations.AnnotateAsync(access.Workspace.Id, found, request?.Context ?? [], self, cancellationToken);
        return result.Value is { } annotated ? TypedResults.Ok(annotated) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<WebhookTokenResponse>, ProblemHttpResult>> GetWebhookToken(
        string workflow, WorkspaceAccess access, WorkflowService workflows, HttpResponse response, CancellationToken cancellationToken)
    {
        response.Headers.CacheControl = "no-store";
        var result = await workflows.GetWebhookTokenAsync(access.Workspace.Id, workflow, cancellationToken);
        return result.Value is { } token ? TypedResults.Ok(token) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<WebhookTokenResponse>, ProblemHttpResult>> RotateWebhookToken(
        string workflow, RotateWebhookTokenRequest? request, WorkspaceAccess access, WorkflowService workflows, HttpResponse response, CancellationToken cancellationToken)
    {
        response.Headers.CacheControl = "no-store";
        var result = await workflows.RotateWebhookTokenAsync(access.Workspace.Id, workflow, request, cancellationToken);
        return result.Value is { } token ? TypedResults.Ok(token) : Problems.From(result.Error!);
    }

    private static Created<WorkflowResponse> Created(WorkspaceAccess access, WorkflowResponse workflow, HttpResponse response)
    {
        response.Headers.ETag = ETags.For(workflow.Version);
        return TypedResults.Created($"/api/v1/workspaces/{access.Workspace.Name}/workflows/{workflow.Id}", workflow);
    }

    private static Results<Ok<WorkflowResponse>, ProblemHttpResult> WithETag(ServiceResult<WorkflowResponse> result, HttpResponse response)
    {
        if (result.Value is not { } workflow)
        {
            return Problems.From(result.Error!);
        }

        response.Headers.ETag = ETags.For(workflow.Version);
        return TypedResults.Ok(workflow);
    }
}
