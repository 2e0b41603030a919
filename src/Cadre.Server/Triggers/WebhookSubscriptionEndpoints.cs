using Cadre.Auth;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Cadre.Triggers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Triggers;

/// <summary>The filters of the delivery list.</summary>
/// <param name="Status"><c>pending</c>, <c>delivered</c> or <c>dead</c>.</param>
/// <param name="Subscription">Only deliveries of this subscription.</param>
/// <param name="Workflow">Only notifications of this workflow (ID).</param>
/// <param name="Run">Only notifications about this run.</param>
/// <param name="EventType">Only deliveries of this event type.</param>
public sealed record WebhookDeliveryListQuery(
    [FromQuery(Name = "status")] string? Status,
    [FromQuery(Name = "subscription")] string? Subscription,
    [FromQuery(Name = "workflow")] string? Workflow,
    [FromQuery(Name = "run")] string? Run,
    [FromQuery(Name = "eventType")] string? EventType)
{
    internal WebhookDeliveryQuery ToQuery() => new(Status, Subscription, Workflow, Run, EventType);
}

internal static class WebhookSubscriptionEndpoints
{
    public static IEndpointRouteBuilder MapWebhookSubscriptions(this IEndpointRouteBuilder app)
    {
        var subscriptions = app.MapGroup("/api/v1/workspaces/{workspace}/webhook-subscriptions").WithTags("Webhooks");
        subscriptions.MapPost("/", Create)
            .WithName("CreateWebhookSubscription").WithSummary("Post the workspace's events of some types to a URL, signed (Standard Webhooks)")
            .WithDescription("The answer carries the signing secret, once; keep it to verify the webhook-signature header.")
            .RequireWorkspaceRole(WorkspaceRole.Admin).WithIdempotency().WithJsonBodyErrors();
        subscriptions.MapGet("/", List)
            .WithName("ListWebhookSubscriptions").WithSummary("The workspace's webhook subscriptions")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithQueryErrors();
        subscriptions.MapGet("/{subscription}", Get)
            .WithName("GetWebhookSubscription").WithSummary("A webhook subscription (never its secret)")
            .RequireWorkspaceRole(WorkspaceRole.Editor);
        subscriptions.MapPatch("/{subscription}", Update)
            .WithName("UpdateWebhookSubscription").WithSummary("Change a subscription's URL, event types, description or active state")
            .WithDescription("Honours If-Match.")
            .RequireWorkspaceRole(WorkspaceRole.Admin).WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        subscriptions.MapPost("/{subscription}/rotate-secret", RotateSecret)
            .WithName("RotateWebhookSubscriptionSecret").WithSummary("Make a new signing secret (answered once); deliveries from now on are signed with it")
            .RequireWorkspaceRole(WorkspaceRole.Admin).ProducesProblem(StatusCodes.Status409Conflict);
        subscriptions.MapDelete("/{subscription}", Delete)
            .WithName("DeleteWebhookSubscription").WithSummary("Delete a subscription; its pending deliveries are given up")
            .RequireWorkspaceRole(WorkspaceRole.Admin);

        var deliveries = app.MapGroup("/api/v1/workspaces/{workspace}/deliveries").WithTags("Webhooks");
        deliveries.MapGet("/", ListDeliveries)
            .WithName("ListWebhookDeliveries").WithSummary("Outbound webhook deliveries, newest first: status, attempts, last answer")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();
        deliveries.MapGet("/{delivery}", GetDelivery)
            .WithName("GetWebhookDelivery").WithSummary("A delivery with its payload and every attempt")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);
        deliveries.MapPost("/{delivery}/redeliver", Redeliver)
            .WithName("RedeliverWebhook").WithSummary("Send a delivered or given-up delivery again, with the same webhook-id")
            .RequireWorkspaceRole(WorkspaceRole.Operator).ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    private static async Task<Results<Created<WebhookSubscriptionResponse>, ProblemHttpResult>> Create(
        WebhookSubscriptionRequest request, WorkspaceAccess access, WebhookSubscriptionService subscriptions, HttpResponse response, CancellationToken cancellationToken)
    {
        response.Headers.CacheControl = "no-store";
        return ETags.Created(await subscriptions.CreateAsync(access.Workspace.Id, request, access.Caller, cancellationToken), s => s.Version,
            s => $"/api/v1/workspaces/{access.Workspace.Name}/webhook-subscriptions/{s.Id}", response);
    }

    private static Task<Results<Ok<PagedResponse<WebhookSubscriptionResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery page, WorkspaceAccess access, WebhookSubscriptionService subscriptions, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => subscriptions.ListAsync(access.Workspace.Id, p, cancellationToken));

    private static async Task<Results<Ok<WebhookSubscriptionResponse>, ProblemHttpResult>> Get(
        string subscription, WorkspaceAccess access, WebhookSubscriptionService subscriptions, HttpResponse response, CancellationToken cancellationToken) =>
        ETags.Found(await subscriptions.GetAsync(access.Workspace.Id, subscription, cancellationToken), s => s.Version, $"Webhook subscription '{subscription}' not found.", response);

    private static async Task<Results<Ok<WebhookSubscriptionResponse>, ProblemHttpResult>> Update(
        string subscription, WebhookSubscriptionRequest request, WorkspaceAccess access, WebhookSubscriptionService subscriptions, HttpContext http, CancellationToken cancellationToken) =>
        ETags.Ok(await subscriptions.UpdateAsync(access.Workspace.Id, subscription, request, access.Caller, ETags.IfMatch(http.Request), cancellationToken), s => s.Version, http.Response);

    private static async Task<Results<Ok<WebhookSubscriptionResponse>, ProblemHttpResult>> RotateSecret(
        string subscription, WorkspaceAccess access, WebhookSubscriptionService subscriptions, HttpResponse response, CancellationToken cancellationToken)
    {
        response.Headers.CacheControl = "no-store";
        return ETags.Ok(await subscriptions.RotateSecretAsync(access.Workspace.Id, subscription, access.Caller, cancellationToken), s => s.Version, response);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string subscription, WorkspaceAccess access, WebhookSubscriptionService subscriptions, CancellationToken cancellationToken)
    {
        var result = await subscriptions.DeleteAsync(access.Workspace.Id, subscription, cancellationToken);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }

    private static Task<Results<Ok<PagedResponse<WebhookDeliveryResponse>>, ProblemHttpResult>> ListDeliveries(
        [AsParameters] PageQuery page, [AsParameters] WebhookDeliveryListQuery query, WorkspaceAccess access, WebhookSubscriptionService subscriptions,
        HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => subscriptions.ListDeliveriesAsync(access.Workspace.Id, query.ToQuery(), p, cancellationToken));

    private static async Task<Results<Ok<WebhookDeliveryResponse>, ProblemHttpResult>> GetDelivery(
        string delivery, WorkspaceAccess access, WebhookSubscriptionService subscriptions, CancellationToken cancellationToken) =>
        await subscriptions.GetDeliveryAsync(access.Workspace.Id, delivery, cancellationToken) is { } found ? TypedResults.Ok(found) : Problems.NotFound($"Delivery '{delivery}' not found.");

    private static async Task<Results<Ok<WebhookDeliveryResponse>, ProblemHttpResult>> Redeliver(
        string delivery, WorkspaceAccess access, WebhookSubscriptionService subscriptions, CancellationToken cancellationToken)
    {
        var result = await subscriptions.RedeliverAsync(access.Workspace.Id, delivery, cancellationToken);
        return result.Value is { } redelivered ? TypedResults.Ok(redelivered) : Problems.From(result.Error!);
    }
}
