using System.Text;
using System.Text.Json.Nodes;
using Cadre.Server.Audit;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Cadre.Triggers;

namespace Cadre.Server.Triggers;

/// <summary>What an asynchronous webhook call answers (202).</summary>
/// <param name="Repeated">The delivery ID was seen before: this is the run that delivery started, and nothing new started.</param>
public sealed record WebhookAcceptedResponse(string RunId, string DisplayId, string Status, string StatusUrl, bool Repeated);

/// <summary>The public webhook intake, <c>POST /hooks/{token}</c>: the token is the credential (see docs/workflows.md, "Webhooks").</summary>
internal static class HookEndpoints
{
    /// <summary>Headers a respond step may not set: they belong to the connection, or to Cadre's own origin (cookies).</summary>
    private static readonly HashSet<string> ReservedResponseHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "trailer", "te", "set-cookie", "server", "date",
    };

    public static IEndpointRouteBuilder MapHooks(this IEndpointRouteBuilder app)
    {
        app.MapPost(Cadre.Workflows.WorkflowService.WebhookPathPrefix + "{token}", Receive)
            .WithTags("Webhooks").WithName("ReceiveWebhook")
            .WithSummary("Start a run of the webhook workflow this token belongs to, with the request as its context")
            .WithDescription("Async workflows answer 202 with the run. Sync workflows wait (up to their timeout) and answer with a respond step's " +
                "status, headers and body, or 200 with the run's output; 502 if the run failed first; 202 if it is still going. A workflow that " +
                "requires a signature refuses a call without a valid one with 401 and starts nothing. A repeated delivery ID answers the same run.")
            .Accepts<JsonNode>("application/json", "application/x-www-form-urlencoded", "text/plain")
            .Produces<WebhookAcceptedResponse>(StatusCodes.Status202Accepted)
            .Produces<JsonNode>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .AllowAnyone();
        return app;
    }

    private static async Task<IResult> Receive(string token, HttpRequest request, WebhookReceiver receiver, RequestAudit audit, CancellationToken cancellationToken)
    {
        // Read whole (the body-size limit answered 413 before this, if it was too large): a signature covers the exact bytes.
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        var headers = request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal);
        var query = new JsonObject();
        foreach (var (name, values) in request.Query)
        {
            query[name] = values.Count == 1 ? values[0] : new JsonArray([.. values.Select(v => (JsonNode?)v)]);
        }

        var answer = await receiver.ReceiveAsync(new WebhookCall(token, request.ContentType, buffer.ToArray(), headers, query), cancellationToken);
        // The run is the audit entry's resource (and its workspace's log holds it), whatever the respond step answered.
        if (answer switch { WebhookAnswer.Accepted a => a.RunId, WebhookAnswer.Responded r => r.RunId, WebhookAnswer.RunFailed f => f.RunId, _ => null } is { } runId)
        {
            audit.Resource(runId);
        }

        switch (answer)
        {
            case WebhookAnswer.Accepted accepted:
                var statusUrl = $"/api/v1/workspaces/{accepted.WorkspaceName}/runs/{accepted.RunId}";
                return TypedResults.Accepted(statusUrl, new WebhookAcceptedResponse(accepted.RunId, accepted.DisplayId, accepted.Status, statusUrl, accepted.Repeated));
            case WebhookAnswer.Responded responded:
                return new RespondedResult(responded);
            case WebhookAnswer.RunFailed failed:
                return Problems.Problem(StatusCodes.Status502BadGateway, "The run failed", $"Run {failed.RunId} failed before it answered.");
            case WebhookAnswer.Refused refused:
                return Problems.Problem(refused.Status, refused.Title, refused.Detail);
            default:
                throw new InvalidOperationException($"Unknown webhook answer {answer.GetType().Name}.");
        }
    }

    /// <summary>A respond step's answer as the HTTP response: JSON unless its headers name another content type and its body is text.</summary>
    private sealed class RespondedResult(WebhookAnswer.Responded answer) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => answer.Status;

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = answer.Status;
            foreach (var (name, value) in answer.Headers.Where(h => !ReservedResponseHeaders.Contains(h.Key)))
            {
                response.Headers[name] = value;
            }

            response.Headers["X-Cadre-Run-Id"] = answer.RunId;
            if (answer.Body is null)
            {
                return;
            }

            var declared = answer.Headers.FirstOrDefault(h => h.Key.Equals("content-type", StringComparison.OrdinalIgnoreCase)).Value;
            var text = answer.Body is JsonValue textValue && textValue.TryGetValue<string>(out var plain) && declared is not null && !declared.Contains("json", StringComparison.OrdinalIgnoreCase)
                ? plain
                : answer.Body.ToJsonString();
            response.ContentType = declared ?? "application/json; charset=utf-8";
            await response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), httpContext.RequestAborted);
        }
    }
}
