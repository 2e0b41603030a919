using System.Text;
using System.Text.Json.Nodes;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Personas;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Cadre.Server.Personas;

/// <summary>The query parameters of a persona list or export: search, filters and order.</summary>
/// <param name="Search">Words that must all appear (as word prefixes) in name, display name, description or instructions.</param>
/// <param name="Department">Only personas in this department; repeat for several (all must match).</param>
/// <param name="Tag">Only personas with this tag; repeat for several (all must match).</param>
/// <param name="Flag">Only personas with this flag, such as experimental; repeat for several.</param>
/// <param name="Parameter">Only personas that declare a parameter of this name.</param>
/// <param name="Status"><c>active</c> (default), <c>deleted</c> (the bin) or <c>all</c>.</param>
/// <param name="Sort"><c>createdAt</c>, <c>updatedAt</c>, <c>name</c> or <c>displayName</c>, with a leading <c>-</c> for descending (default <c>-createdAt</c>).</param>
public sealed record PersonaListQuery(
    [FromQuery(Name = "q")] string? Search,
    [FromQuery(Name = "department")] string[]? Department,
    [FromQuery(Name = "tag")] string[]? Tag,
    [FromQuery(Name = "flag")] string[]? Flag,
    [FromQuery(Name = "parameter")] string[]? Parameter,
    [FromQuery(Name = "provider")] string? Provider,
    [FromQuery(Name = "model")] string? Model,
    [FromQuery(Name = "status")] string? Status,
    [FromQuery(Name = "sort")] string? Sort)
{
    internal PersonaQuery ToQuery() => new(Search, Department, Tag, Flag, Parameter, Provider, Model, Status, Sort);
}

internal static class PersonaEndpoints
{
    public const string CsvMediaType = "text/csv";

    public static IEndpointRouteBuilder MapPersonas(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/workspaces/{workspace}/personas").WithTags("Personas");
        var importLimit = app.ServiceProvider.GetRequiredService<IOptions<HttpOptions>>().Value.MaxImportBytes;

        group.MapGet("/", List)
            .WithName("ListPersonas").WithSummary("List, search and filter personas")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();
        group.MapPost("/", Create)
            .WithName("CreatePersona").WithSummary("Create a persona")
            .WithDescription("Answers the persona with every default filled in and a warnings list (an unknown provider or model is allowed but flagged).")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithIdempotency().WithJsonBodyErrors().ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/drafts", ListDrafts)
            .WithName("ListMyPersonaDrafts").WithSummary("List your drafts in this workspace")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithQueryErrors();
        group.MapGet("/export", Export)
            .WithName("ExportPersonas").WithSummary("Export personas as JSON or CSV")
            .WithDescription("format=json (default) or csv; takes the filters of the list. CSV: one row per persona, stable columns, lists joined with '; ', nested values as JSON, RFC 4180 quoting.")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors()
            .Produces<PersonaExportDocument>(StatusCodes.Status200OK).Produces<string>(StatusCodes.Status200OK, CsvMediaType);
        group.MapPost("/import", Import)
            .WithName("ImportPersonas").WithSummary("Import personas from JSON or CSV")
            .WithDescription("mode=create-only (default) or upsert (by name); dryRun=true reports what would change and changes nothing. " +
                "Send application/json (an export document or an array) or text/csv (an export's columns).")
            // One Accepts for both: routing matches the content type against the last IAcceptsMetadata only.
            .Accepts<PersonaExportDocument>("application/json", CsvMediaType)
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                if (operation.RequestBody?.Content?.TryGetValue(CsvMediaType, out var csv) == true)
                {
                    csv.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The columns of a CSV export, with a header row." };
                }

                return Task.CompletedTask;
            })
            .WithMetadata(new RequestSizeLimitAttribute(importLimit))
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithIdempotency().WithJsonBodyErrors();
        group.MapPost("/bulk-create", BulkCreate)
            .WithName("BulkCreatePersonas").WithSummary("Create many personas; each item succeeds or says why")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithIdempotency().WithJsonBodyErrors();
        group.MapPost("/bulk-update", BulkUpdate)
            .WithName("BulkUpdatePersonas").WithSummary("Change many personas with merge patches; each item succeeds or says why")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithIdempotency().WithJsonBodyErrors();
        group.MapPost("/bulk-delete", BulkDelete)
            .WithName("BulkDeletePersonas").WithSummary("Move many personas to the bin; each item succeeds or says why")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithIdempotency().WithJsonBodyErrors();

        group.MapGet("/{persona}", Get)
            .WithName("GetPersona").WithSummary("Get a persona by ID or name")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);
        group.MapPatch("/{persona}", Update)
            .WithName("UpdatePersona").WithSummary("Change a persona (JSON Merge Patch) as a new version")
            .WithDescription("Omitted fields stay; members set to null are removed; lists are replaced whole. Honours If-Match.")
            .Accepts<PersonaSpec>("application/merge-patch+json", "application/json")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        group.MapDelete("/{persona}", Delete)
            .WithName("DeletePersona").WithSummary("Move a persona to the bin, or delete it for good")
            .WithDescription("Without permanent=true the persona goes to the bin (restorable, its name free). permanent=true deletes it and its history (admin).")
            .RequireWorkspaceRole(WorkspaceRole.Editor).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        group.MapPost("/{persona}/restore", Restore)
            .WithName("RestorePersona").WithSummary("Take a persona out of the bin")
            .RequireWorkspaceRole(WorkspaceRole.Editor).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/{persona}/duplicate", Duplicate)
            .WithName("DuplicatePersona").WithSummary("Copy a persona under a new name")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithIdempotency().WithJsonBodyErrors().ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/{persona}/versions", ListVersions)
            .WithName("ListPersonaVersions").WithSummary("List a persona's versions, newest first")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();
        group.MapGet("/{persona}/versions/{version:int}", GetVersion)
            .WithName("GetPersonaVersion").WithSummary("Get a persona as it was at one version")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);
        group.MapGet("/{persona}/diff", Diff)
            .WithName("DiffPersonaVersions").WithSummary("The fields that differ between two versions")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors().ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);
        group.MapPost("/{persona}/revert", Revert)
            .WithName("RevertPersona").WithSummary("Publish an earlier version as the next one")
            .WithDescription("The current version stays in the history. Honours If-Match.")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        group.MapGet("/{persona}/card", Card)
            .WithName("GetPersonaCard").WithSummary("A readable Markdown page about the persona")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).Produces<string>(StatusCodes.Status200OK, "text/markdown");
        group.MapPost("/{persona}/preview", Preview)
            .WithName("PreviewPersona").WithSummary("Render the system prompt with parameter values")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithJsonBodyErrors();

        group.MapPost("/{persona}/draft", StartDraft)
            .WithName("StartPersonaDraft").WithSummary("Start your draft of a persona")
            .WithDescription("The body is optional; expectedVersion (the persona version you loaded) makes a persona published since a 409 with currentVersion.")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithJsonBodyErrors().ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/{persona}/draft", GetDraft)
            .WithName("GetPersonaDraft").WithSummary("Your draft: the form state, its errors and whether the persona moved on")
            .RequireWorkspaceRole(WorkspaceRole.Editor);
        group.MapPatch("/{persona}/draft", UpdateDraft)
            .WithName("UpdatePersonaDraft").WithSummary("Change your draft (merge patch) if it is still at expectedVersion")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithJsonBodyErrors().ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/{persona}/draft", DiscardDraft)
            .WithName("DiscardPersonaDraft").WithSummary("Discard your draft")
            .RequireWorkspaceRole(WorkspaceRole.Editor);
        group.MapPost("/{persona}/draft/publish", PublishDraft)
            .WithName("PublishPersonaDraft").WithSummary("Publish your draft as the persona's next version")
            .WithDescription("Refused with 409 when the persona was published since the draft started, unless force is true; 422 when the draft is invalid.")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithJsonBodyErrors().ProducesProblem(StatusCodes.Status409Conflict);

        return app;
    }

    private static Task<Results<Ok<PagedResponse<PersonaSummary>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery page, [AsParameters] PersonaListQuery query, WorkspaceAccess access, PersonaService personas, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => personas.ListAsync(access.Workspace.Id, query.ToQuery(), p, cancellationToken));

    private static async Task<Results<Created<PersonaResponse>, ProblemHttpResult>> Create(
        PersonaSpec request, WorkspaceAccess access, PersonaService personas, HttpResponse response, CancellationToken cancellationToken)
    {
        var result = await personas.CreateAsync(access.Workspace.Id, request, access.Caller, cancellationToken);
        return result.Value is { } persona ? Created(access, persona, response) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<PersonaResponse>, ProblemHttpResult>> Get(
        string persona, WorkspaceAccess access, PersonaService personas, HttpResponse response, CancellationToken cancellationToken)
    {
        if (await personas.GetAsync(access.Workspace.Id, persona, cancellationToken) is not { } found)
        {
            return Problems.NotFound($"Persona '{persona}' not found.");
        }

        response.Headers.ETag = ETags.For(found.Version);
        return TypedResults.Ok(found);
    }

    private static async Task<Results<Ok<PersonaResponse>, ProblemHttpResult>> Update(
        string persona, JsonObject changes, WorkspaceAccess access, PersonaService personas, HttpContext http, CancellationToken cancellationToken) =>
        WithETag(await personas.PatchAsync(access.Workspace.Id, persona, changes, access.Caller, ETags.IfMatch(http.Request), cancellationToken), http.Response);

    private static async Task<Results<Ok<PersonaResponse>, NoContent, ProblemHttpResult>> Delete(
        string persona, [FromQuery(Name = "permanent")] bool? permanent, WorkspaceAccess access, PersonaService personas, HttpRequest request, CancellationToken cancellationToken)
    {
        if (permanent == true)
        {
            if (access.Role < WorkspaceRole.Admin)
            {
                return Problems.Forbidden($"Deleting a persona for good needs role 'admin' or higher; you have '{access.Role.ToWireName()}'. Without permanent=true it goes to the bin.");
            }

            var purged = await personas.PurgeAsync(access.Workspace.Id, persona, cancellationToken);
            return purged.IsSuccess ? TypedResults.NoContent() : Problems.From(purged.Error!);
        }

        var result = await personas.DeleteAsync(access.Workspace.Id, persona, access.Caller, ETags.IfMatch(request), cancellationToken);
        return result.Value is { } deleted ? TypedResults.Ok(deleted) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<PersonaResponse>, ProblemHttpResult>> Restore(
        string persona, WorkspaceAccess access, PersonaService personas, HttpResponse response, CancellationToken cancellationToken) =>
        WithETag(await personas.RestoreAsync(access.Workspace.Id, persona, cancellationToken), response);

    private static async Task<Results<Created<PersonaResponse>, ProblemHttpResult>> Duplicate(
        string persona, DuplicatePersonaRequest? request, WorkspaceAccess access, PersonaService personas, HttpResponse response, CancellationToken cancellationToken)
    {
        var result = await personas.DuplicateAsync(access.Workspace.Id, persona, request ?? new DuplicatePersonaRequest(), access.Caller, cancellationToken);
        return result.Value is { } copy ? Created(access, copy, response) : Problems.From(result.Error!);
    }

    private static Task<Results<Ok<PagedResponse<PersonaVersionSummary>>, ProblemHttpResult>> ListVersions(
        string persona, [AsParameters] PageQuery page, WorkspaceAccess access, PersonaService personas, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => personas.ListVersionsAsync(access.Workspace.Id, persona, p, cancellationToken));

    private static async Task<Results<Ok<PersonaVersionResponse>, ProblemHttpResult>> GetVersion(
        string persona, int version, WorkspaceAccess access, PersonaService personas, CancellationToken cancellationToken)
    {
        var result = await personas.GetVersionAsync(access.Workspace.Id, persona, version, cancellationToken);
        return result.Value is { } found ? TypedResults.Ok(found) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<PersonaDiffResponse>, ProblemHttpResult>> Diff(
        string persona, [FromQuery(Name = "from")] int? from, [FromQuery(Name = "to")] int? to, WorkspaceAccess access, PersonaService personas, CancellationToken cancellationToken)
    {
        if (VersionRange.Check(from, to) is { } missing)
        {
            return missing;
        }

        var result = await personas.DiffAsync(access.Workspace.Id, persona, from!.Value, to!.Value, cancellationToken);
        return result.Value is { } diff ? TypedResults.Ok(diff) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<PersonaResponse>, ProblemHttpResult>> Revert(
        string persona, RevertPersonaRequest request, WorkspaceAccess access, PersonaService personas, HttpContext http, CancellationToken cancellationToken)
    {
        if (request.Version is not { } version)
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["version"] = ["Is required: the version to publish again."] });
        }

        return WithETag(await personas.RevertAsync(access.Workspace.Id, persona, version, access.Caller, ETags.IfMatch(http.Request), cancellationToken), http.Response);
    }

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> Card(
        string persona, WorkspaceAccess access, PersonaService personas, CancellationToken cancellationToken) =>
        await personas.GetAsync(access.Workspace.Id, persona, cancellationToken) is { } found
            ? TypedResults.Text(PersonaCard.Render(found), "text/markdown; charset=utf-8", Encoding.UTF8)
            : Problems.NotFound($"Persona '{persona}' not found.");

    private static async Task<Results<Ok<PersonaPreviewResponse>, ProblemHttpResult>> Preview(
        string persona, PreviewPersonaRequest? request, WorkspaceAccess access, PersonaService personas, CancellationToken cancellationToken)
    {
        var result = await personas.PreviewAsync(access.Workspace.Id, persona, request ?? new PreviewPersonaRequest(), cancellationToken);
        return result.Value is { } preview ? TypedResults.Ok(preview) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<BulkResponse>, ProblemHttpResult>> BulkCreate(
        BulkCreatePersonasRequest request, WorkspaceAccess access, PersonaService personas, CancellationToken cancellationToken) =>
        Bulk(await personas.BulkCreateAsync(access.Workspace.Id, request, access.Caller, cancellationToken));

    private static async Task<Results<Ok<BulkResponse>, ProblemHttpResult>> BulkUpdate(
        BulkUpdatePersonasRequest request, WorkspaceAccess access, PersonaService personas, CancellationToken cancellationToken) =>
        Bulk(await personas.BulkUpdateAsync(access.Workspace.Id, request, access.Caller, cancellationToken));

    private static async Task<Results<Ok<BulkResponse>, ProblemHttpResult>> BulkDelete(
        BulkDeletePersonasRequest request, WorkspaceAccess access, PersonaService personas, CancellationToken cancellationToken) =>
        Bulk(await personas.BulkDeleteAsync(access.Workspace.Id, request, access.Caller, cancellationToken));

    private static async Task<Results<Ok<PersonaExportDocument>, ContentHttpResult, ProblemHttpResult>> Export(
        [FromQuery(Name = "format")] string? format, [AsParameters] PersonaListQuery query, WorkspaceAccess access,
        PersonaTransferService transfer, TimeProvider time, HttpResponse response, CancellationToken cancellationToken)
    {
        var filter = query.ToQuery();
        switch (format ?? "json")
        {
            case "json":
                var json = await transfer.ExportJsonAsync(access.Workspace.Id, access.Workspace.Name, filter, time.GetUtcNowTruncated(), cancellationToken);
                if (json.Value is not { } document)
                {
                    return Problems.BadQuery(json.Error!.Errors!);
                }

                response.Headers.ContentDisposition = $"attachment; filename=\"{access.Workspace.Name}-personas.json\"";
                return TypedResults.Ok(document);
            case "csv":
                var csv = await transfer.ExportCsvAsync(access.Workspace.Id, filter, cancellationToken);
                if (csv.Value is not { } text)
                {
                    return Problems.BadQuery(csv.Error!.Errors!);
                }

                response.Headers.ContentDisposition = $"attachment; filename=\"{access.Workspace.Name}-personas.csv\"";
                return TypedResults.Text(text, "text/csv; charset=utf-8", Encoding.UTF8);
            default:
                return Problems.BadQuery(new Dictionary<string, string[]> { ["format"] = ["Must be json or csv."] });
        }
    }

    private static async Task<Results<Ok<ImportResponse>, ProblemHttpResult>> Import(
        [FromQuery(Name = "mode")] string? mode, [FromQuery(Name = "dryRun")] bool? dryRun, WorkspaceAccess access,
        PersonaTransferService transfer, HttpRequest request, CancellationToken cancellationToken)
    {
        mode ??= "create-only";
        if (mode is not ("create-only" or "upsert"))
        {
            return Problems.BadQuery(new Dictionary<string, string[]> { ["mode"] = ["Must be create-only or upsert."] });
        }

        var mediaType = request.ContentType is { } contentType && Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var parsed)
            ? parsed.MediaType.Value
            : null;
        var isCsv = mediaType == CsvMediaType;
        if (!isCsv && !request.HasJsonContentType())
        {
            return Problems.Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported Media Type",
                $"Send the import as 'application/json' (an export document or an array of personas) or '{CsvMediaType}' (an export's columns).");
        }

        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(cancellationToken);
        var items = isCsv ? PersonaTransferService.ReadCsv(body) : PersonaTransferService.ReadJson(body);
        if (items.Value is not { } read)
        {
            return Problems.Validation(items.Error!.Errors!, "The import cannot be read; nothing was changed.");
        }

        return TypedResults.Ok(await transfer.ImportAsync(access.Workspace.Id, read, mode, dryRun == true, access.Caller, cancellationToken));
    }

    private static Task<Results<Ok<PagedResponse<PersonaDraftSummary>>, ProblemHttpResult>> ListDrafts(
        [AsParameters] PageQuery page, WorkspaceAccess access, PersonaDraftService drafts, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync<PersonaDraftSummary>(page, request, async p => await drafts.ListMineAsync(access.Workspace.Id, access.Caller, p, cancellationToken));

    private static async Task<Results<Created<PersonaDraftResponse>, ProblemHttpResult>> StartDraft(
        string persona, StartPersonaDraftRequest? request, WorkspaceAccess access, PersonaDraftService drafts, CancellationToken cancellationToken)
    {
        var result = await drafts.StartAsync(access.Workspace.Id, persona, request ?? new StartPersonaDraftRequest(), access.Caller, cancellationToken);
        return result.Value is { } draft
            ? TypedResults.Created($"/api/v1/workspaces/{access.Workspace.Name}/personas/{draft.PersonaId}/draft", draft)
            : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<PersonaDraftResponse>, ProblemHttpResult>> GetDraft(
        string persona, WorkspaceAccess access, PersonaDraftService drafts, CancellationToken cancellationToken)
    {
        var result = await drafts.GetAsync(access.Workspace.Id, persona, access.Caller, cancellationToken);
        return result.Value is { } draft ? TypedResults.Ok(draft) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<PersonaDraftResponse>, ProblemHttpResult>> UpdateDraft(
        string persona, UpdatePersonaDraftRequest request, WorkspaceAccess access, PersonaDraftService drafts, CancellationToken cancellationToken)
    {
        var result = await drafts.UpdateAsync(access.Workspace.Id, persona, request, access.Caller, cancellationToken);
        return result.Value is { } draft ? TypedResults.Ok(draft) : Problems.From(result.Error!);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DiscardDraft(
        string persona, WorkspaceAccess access, PersonaDraftService drafts, CancellationToken cancellationToken)
    {
        var result = await drafts.DiscardAsync(access.Workspace.Id, persona, access.Caller, cancellationToken);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<PersonaResponse>, ProblemHttpResult>> PublishDraft(
        string persona, PublishPersonaDraftRequest? request, WorkspaceAccess access, PersonaDraftService drafts, HttpResponse response, CancellationToken cancellationToken) =>
        WithETag(await drafts.PublishAsync(access.Workspace.Id, persona, request ?? new PublishPersonaDraftRequest(), access.Caller, cancellationToken), response);

    private static Created<PersonaResponse> Created(WorkspaceAccess access, PersonaResponse persona, HttpResponse response)
    {
        response.Headers.ETag = ETags.For(persona.Version);
        return TypedResults.Created($"/api/v1/workspaces/{access.Workspace.Name}/personas/{persona.Id}", persona);
    }

    private static Results<Ok<PersonaResponse>, ProblemHttpResult> WithETag(ServiceResult<PersonaResponse> result, HttpResponse response) =>
        ETags.Ok(result, p => p.Version, response);

    private static Results<Ok<BulkResponse>, ProblemHttpResult> Bulk(ServiceResult<BulkResponse> result) =>
        result.Value is { } bulk ? TypedResults.Ok(bulk) : Problems.From(result.Error!);
}
