using System.Text.Json.Nodes;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Expressions;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Cadre.Workflows;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Workflows;

/// <summary>One version of an activity as the registry lists it.</summary>
public sealed record ActivityVersionResponse(int Version, JsonObject InputSchema, string Output);

/// <summary>A built-in activity: what steps can do.</summary>
public sealed record ActivityResponse(string UniqueIdentifier, string Description, bool IsPure, int LatestVersion, IReadOnlyList<ActivityVersionResponse> Versions);

/// <summary>The filter DSL's vocabulary, and the functions expressions may call.</summary>
public sealed record FilterOperatorsResponse(
    IReadOnlyList<FilterOperator> Operators, IReadOnlyList<FilterOperator> LogicalOperators, IReadOnlyList<ExpressionFunctionResponse> Functions);

public sealed record ExpressionFunctionResponse(string Name, string Signature, string Description);

/// <summary>Read-only registries defined in code (activities, filter operators) and the workspace's event types.</summary>
internal static class RegistryEndpoints
{
    private static readonly IReadOnlyList<ActivityResponse> Activities = [.. ActivityRegistry.All.Values
        .OrderBy(a => a.UniqueIdentifier, StringComparer.Ordinal)
        .Select(a => new ActivityResponse(a.UniqueIdentifier, a.Description, a.IsPure, a.Latest.Version,
            [.. a.Versions.Select(v => new ActivityVersionResponse(v.Version, v.InputSchema, v.Output))]))];

    private static readonly FilterOperatorsResponse Operators = new(
        Filter.Operators, Filter.LogicalOperators, [.. Expression.Functions.Select(f => new ExpressionFunctionResponse(f.Name, f.Signature, f.Description))]);

    public static IEndpointRouteBuilder MapWorkflowRegistries(this IEndpointRouteBuilder app)
    {
        var workspace = app.MapGroup("/api/v1/workspaces/{workspace}").WithTags("Registries");
        workspace.MapGet("/activities", () => TypedResults.Ok(Activities))
            .WithName("ListActivities").WithSummary("Every built-in activity, with its versions and input schema")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);
        workspace.MapGet("/filter-operators", () => TypedResults.Ok(Operators))
            .WithName("ListFilterOperators").WithSummary("The filter DSL's operators and logical operators with their operands, and the expression functions")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);

        var types = workspace.MapGroup("/event-types");
        types.MapGet("/", ListEventTypes)
            .WithName("ListEventTypes").WithSummary("Built-in and custom event types, by name")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();
        types.MapPost("/", CreateEventType)
            .WithName("CreateEventType").WithSummary("Define an event type with a JSON Schema for its payload")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithIdempotency().WithJsonBodyErrors().ProducesProblem(StatusCodes.Status409Conflict);
        types.MapGet("/{eventType}", GetEventType)
            .WithName("GetEventType").WithSummary("Get an event type by name (or a custom one by ID)")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);
        types.MapPatch("/{eventType}", UpdateEventType)
            .WithName("UpdateEventType").WithSummary("Change a custom event type's description or schema")
            .WithDescription("The name stays. Built-in types cannot be changed (409). Honours If-Match.")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        types.MapDelete("/{eventType}", DeleteEventType)
            .WithName("DeleteEventType").WithSummary("Delete a custom event type no workflow starts on")
            .RequireWorkspaceRole(WorkspaceRole.Editor).ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    private static Task<Results<Ok<PagedResponse<EventTypeResponse>>, ProblemHttpResult>> ListEventTypes(
        [AsParameters] PageQuery page, [FromQuery(Name = "builtIn")] bool? builtIn, WorkspaceAccess access, EventTypeService eventTypes,
        HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => eventTypes.ListAsync(access.Workspace.Id, builtIn, p, cancellationToken));

    private static async Task<Results<Created<EventTypeResponse>, ProblemHttpResult>> CreateEventType(
        EventTypeRequest request, WorkspaceAccess access, EventTypeService eventTypes, HttpResponse response, CancellationToken cancellationToken)
    {
        var result = await eventTypes.CreateAsync(access.Workspace.Id, request, access.Caller, cancellationToken);
        if (result.Value is not { } created)
        {
            return Problems.From(result.Error!);
        }

        response.Headers.ETag = ETags.For(created.Version);
        return TypedResults.Created($"/api/v1/workspaces/{access.Workspace.Name}/event-types/{created.Name}", created);
    }

    private static async Task<Results<Ok<EventTypeResponse>, ProblemHttpResult>> GetEventType(
        string eventType, WorkspaceAccess access, EventTypeService eventTypes, HttpResponse response, CancellationToken cancellationToken)
    {
        if (await eventTypes.GetAsync(access.Workspace.Id, eventType, cancellationToken) is not { } found)
        {
            return Problems.NotFound($"Event type '{eventType}' not found.");
        }

        response.Headers.ETag = ETags.For(found.Version);
        return TypedResults.Ok(found);
    }

    private static async Task<Results<Ok<EventTypeResponse>, ProblemHttpResult>> UpdateEventType(
        string eventType, EventTypeRequest request, WorkspaceAccess access, EventTypeService eventTypes, HttpContext http, CancellationToken cancellationToken)
    {
        var result = await eventTypes.UpdateAsync(access.Workspace.Id, eventType, request, access.Caller, ETags.IfMatch(http.Request), cancellationToken);
        if (result.Value is not { } updated)
        {
            return Problems.From(result.Error!);
        }

        http.Response.Headers.ETag = ETags.For(updated.Version);
        return TypedResults.Ok(updated);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteEventType(
        string eventType, WorkspaceAccess access, EventTypeService eventTypes, CancellationToken cancellationToken)
    {
        var result = await eventTypes.DeleteAsync(access.Workspace.Id, eventType, cancellationToken);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }
}
