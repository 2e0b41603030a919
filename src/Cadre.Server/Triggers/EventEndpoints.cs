using Cadre.Auth;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Cadre.Triggers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Triggers;

/// <summary>The filters of an event list.</summary>
/// <param name="Type">An event type, or a prefix pattern such as <c>ticket.*</c>.</param>
/// <param name="Origin"><c>api</c>, <c>run</c> or <c>cadre</c>.</param>
/// <param name="Source">Only events from this source.</param>
public sealed record EventListQuery(
    [FromQuery(Name = "type")] string? Type,
    [FromQuery(Name = "origin")] string? Origin,
    [FromQuery(Name = "source")] string? Source)
{
    internal EventQuery ToQuery() => new(Type, Origin, Source);
}

internal static class EventEndpoints
{
    public static IEndpointRouteBuilder MapEvents(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/workspaces/{workspace}/events").WithTags("Events");
        group.MapPost("/", Ingest)
            .WithName("IngestEvent").WithSummary("Send an event: each active workflow whose trigger takes it starts one run")
            .WithDescription("The payload must follow the event type's schema (422). An event with an id already seen is that event: " +
                "the answer is 200 with it and its runs, and nothing starts twice, however many copies arrive at once. 201 for a new event, " +
                "with the runs it started (or, per workflow, why it did not start one).")
            .RequireWorkspaceRole(WorkspaceRole.Operator).WithIdempotency().WithJsonBodyErrors();
        group.MapGet("/", List)
            .WithName("ListEvents").WithSummary("The workspace's events, newest first, with the runs each started")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();
        group.MapGet("/{event}", Get)
            .WithName("GetEvent").WithSummary("An event with the runs it started")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);
        group.MapPost("/{event}/replay", Replay)
            .WithName("ReplayEvent").WithSummary("Match the event against the workflows as they are now and start one more run in each that takes it")
            .WithDescription("Replays are numbered; the event's runs list says which replay started each run.")
            .RequireWorkspaceRole(WorkspaceRole.Operator).WithIdempotency().ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    private static async Task<Results<Created<EventResponse>, Ok<EventResponse>, ProblemHttpResult>> Ingest(
        IngestEventRequest request, WorkspaceAccess access, EventService events, CancellationToken cancellationToken)
    {
        var result = await events.IngestAsync(access.Workspace.Id, request, access.Caller, "api", cancellationToken);
        if (result.Value is not { } ingested)
        {
            return Problems.From(result.Error!);
        }

        return ingested.Created
            ? TypedResults.Created($"/api/v1/workspaces/{access.Workspace.Name}/events/{ingested.Event.Id}", ingested.Event)
            : TypedResults.Ok(ingested.Event);
    }

    private static Task<Results<Ok<PagedResponse<EventResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery page, [AsParameters] EventListQuery query, WorkspaceAccess access, EventService events, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => events.ListAsync(access.Workspace.Id, query.ToQuery(), p, cancellationToken));

    private static async Task<Results<Ok<EventResponse>, ProblemHttpResult>> Get(string @event, WorkspaceAccess access, EventService events, CancellationToken cancellationToken) =>
        await events.GetAsync(access.Workspace.Id, @event, cancellationToken) is { } found ? TypedResults.Ok(found) : Problems.NotFound($"Event '{@event}' not found.");

    private static async Task<Results<Ok<EventResponse>, ProblemHttpResult>> Replay(string @event, WorkspaceAccess access, EventService events, CancellationToken cancellationToken)
    {
        var result = await events.ReplayAsync(access.Workspace.Id, @event, cancellationToken);
        return result.Value is { } replayed ? TypedResults.Ok(replayed) : Problems.From(result.Error!);
    }
}
