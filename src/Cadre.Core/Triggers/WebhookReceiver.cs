using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Runs;
using Cadre.Storage;
using Cadre.Workflows;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Triggers;

/// <summary>A call of <c>/hooks/{token}</c> as the intake reads it.</summary>
/// <param name="Headers">Every header, names in lower case (several values joined by commas).</param>
/// <param name="Query">The query string: a value, or an array for a repeated name.</param>
public sealed record WebhookCall(string Token, string? ContentType, byte[] Body, IReadOnlyDictionary<string, string> Headers, JsonObject Query);

/// <summary>What the intake answers a webhook call.</summary>
public abstract record WebhookAnswer
{
    /// <summary>202: the run started (or, for a repeated delivery, had started); sync calls whose run outlasts the wait end here too.</summary>
    public sealed record Accepted(string WorkspaceName, string RunId, string DisplayId, string Status, bool Repeated) : WebhookAnswer;

    /// <summary>A sync call's answer: a respond step's status, headers and body, or 200 with the run's output.</summary>
    public sealed record Responded(int Status, IReadOnlyDictionary<string, string> Headers, JsonNode? Body, string RunId) : WebhookAnswer;

    /// <summary>502: a sync call's run failed before it answered.</summary>
    public sealed record RunFailed(string RunId) : WebhookAnswer;

    /// <summary>Nothing started: 401 (signature), 404 (nobody listens here), 400, 409, 415 or 422.</summary>
    public sealed record Refused(int Status, string Title, string Detail) : WebhookAnswer;
}

/// <summary>
/// The public webhook intake: finds the active webhook workflow by its token (or its previous token
/// during a rotation's grace period), checks the signature the workflow requires (failing closed),
/// and starts a run with the body, allow-listed headers and query as its context. A delivery ID
/// (<c>webhook-id</c>, <c>X-GitHub-Delivery</c>, <c>Idempotency-Key</c>, or a Stripe event's <c>id</c>)
/// becomes the run's key <c>hook:{id}</c>, unique per workflow: a redelivery answers the same run and
/// starts nothing. A <c>sync</c> workflow's call waits for a <c>respond</c> step or the run's end.
/// </summary>
internal sealed class WebhookReceiver(
    CadreDbContext db, RunService runs, RunNotifier notifier, CompiledWorkflows compiledWorkflows, TimeProvider time, Secrets.SecretService secretValues)
{
    public const int MaxDeliveryIdLength = 200;

    public static readonly TimeSpan DefaultSyncTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Headers every run of a webhook sees in <c>context.headers</c> when the request has them.</summary>
    public static IReadOnlySet<string> ShownHeaders { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "content-type", "user-agent", "webhook-id", "webhook-timestamp", "x-github-event", "x-github-delivery", "x-github-hook-id",
        "x-gitlab-event", "x-request-id", "idempotency-key",
    };

    /// <summary>Headers that carry credentials: never passed to runs, even when a workflow asks.</summary>
    public static IReadOnlySet<string> NeverShown { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "authorization", "proxy-authorization", "cookie", "x-api-key",
    };

    public async Task<WebhookAnswer> ReceiveAsync(WebhookCall call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        var now = time.GetUtcNowTruncated();
        var hash = WorkflowService.HashToken(call.Token);
        var workflow = await db.Workflows.AsNoTracking()
            .Where(w => w.WebhookTokenHash == hash || (w.PreviousWebhookTokenHash == hash && w.PreviousWebhookTokenExpiresAt > now))
            .Join(db.Workspaces.AsNoTracking(), w => w.WorkspaceId, s => s.Id, (w, s) => new { w.Id, w.WorkspaceId, WorkspaceName = s.Name, w.Version, w.Type, w.IsActive, w.DeletedAt, w.Definition })
            .FirstOrDefaultAsync(cancellationToken);
        // Inactive, binned or not a webhook workflow: the same 404 as a wrong token, so a token says nothing by itself.
        if (workflow is null || workflow.DeletedAt is not null || !workflow.IsActive || workflow.Type != "webhook")
        {
            return new WebhookAnswer.Refused(404, "Not found", "No active webhook listens at this address.");
        }

        var spec = compiledWorkflows.Get(workflow.Id, workflow.Version, () => WorkflowJson.Deserialize(workflow.Definition)).Spec;
        var settings = spec.Trigger?.Webhook ?? new Workflows.WebhookIntake();
        if (settings.Signature is { } signature && await SignatureProblemAsync(workflow.WorkspaceId, signature, call, cancellationToken) is { } refused)
        {
            return refused;
        }

        if (Parse(call) is not { } body)
        {
            return new WebhookAnswer.Refused(call.ContentType is null || IsJson(call.ContentType) ? 400 : 415, "Unreadable body",
                "Send JSON (application/json), a form (application/x-www-form-urlencoded) or text (text/*).");
        }

        var deliveryId = DeliveryId(call, body, settings.Signature?.Style);
        if (deliveryId is { Length: > MaxDeliveryIdLength })
        {
            return new WebhookAnswer.Refused(400, "Invalid delivery ID", $"The delivery ID must be at most {MaxDeliveryIdLength} characters.");
        }

        var headers = new JsonObject();
        var shown = new HashSet<string>(ShownHeaders, StringComparer.Ordinal);
        shown.UnionWith((settings.Headers ?? []).Select(h => h.ToLowerInvariant()));
        foreach (var (name, value) in call.Headers.Where(h => shown.Contains(h.Key) && !NeverShown.Contains(h.Key)).OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            headers[name] = value;
        }

        var details = new JsonObject { ["deliveryId"] = deliveryId };
        var extras = new JsonObject { ["headers"] = headers, ["query"] = call.Query.DeepClone() };
        // The webhook stands as who started the run: no person or key is behind a public call.
        var caller = new Caller(CallerKind.InstanceKey, "webhook", null, null, workflow.WorkspaceId, null, null, null);
        var started = await runs.StartAsync(
            workflow.WorkspaceId, workflow.Id, new StartRunRequest { Input = body }, caller, deliveryId is null ? null : "hook:" + deliveryId, "webhook",
            cancellationToken, details, extras);
        if (started.Error is { } error)
        {
            var detail = error.Errors is { Count: > 0 } fields ? string.Join(" ", fields.Select(f => $"{f.Key}: {string.Join(" ", f.Value)}")) : error.Detail;
            return new WebhookAnswer.Refused(error.Kind == ServiceErrorKind.Conflict ? 409 : 422, "Not started", detail);
        }

        var run = started.Value!.Run;
        var workspaceName = workflow.WorkspaceName;
        if (settings.Mode != "sync")
        {
            return new WebhookAnswer.Accepted(workspaceName, run.Id, run.DisplayId, run.Status, started.Value.Existing);
        }

        var timeout = Durations.TryParse(settings.Timeout, out var wait) ? wait : DefaultSyncTimeout;
        return await SyncAnswerAsync(workflow.WorkspaceId, workspaceName, run, started.Value.Existing, timeout, cancellationToken);
    }

    private async Task<WebhookAnswer.Refused?> SignatureProblemAsync(string workspaceId, WebhookSignature signature, WebhookCall call, CancellationToken cancellationToken)
    {
        var secrets = new List<string>();
        foreach (var name in signature.Secrets ?? [])
        {
            try
            {
                if (await secretValues.RevealAsync(workspaceId, name, cancellationToken) is { } value)
                {
                    secrets.Add(value);
                }
            }
            catch (Secrets.SecretUnreadableException)
            {
                // Under a lost key: as good as missing, and a missing secret fails closed.
            }
        }

        var tolerance = Durations.TryParse(signature.Tolerance, out var window) ? window : WebhookSignatures.DefaultTolerance;
        var failure = WebhookSignatures.Verify(signature.Style!, call.Headers, call.Body, secrets, time.GetUtcNow(), tolerance);
        var reason = failure switch
        {
            SignatureFailure.None => null,
            SignatureFailure.MissingSecret => "The workflow requires a signature but none of its signing secrets exists; nothing is accepted until one does.",
            SignatureFailure.MissingHeader => $"The request carries no {signature.Style} signature.",
            SignatureFailure.MalformedHeader => $"The {signature.Style} signature headers are malformed.",
            SignatureFailure.StaleTimestamp => "The signed timestamp is too old.",
            SignatureFailure.FutureTimestamp => "The signed timestamp is in the future.",
            _ => "The signature does not match.",
        };
        return reason is null ? null : new WebhookAnswer.Refused(401, "Invalid signature", reason);
    }

    /// <summary>Waits for a respond step's answer or the run's end, up to the workflow's timeout (then 202, the run carries on).</summary>
    private async Task<WebhookAnswer> SyncAnswerAsync(
        string workspaceId, string workspaceName, RunResponse run, bool repeated, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var subscription = notifier.Subscribe(workspaceId, run.Id);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var current = run;
        while (true)
        {
            if (Answer(current) is { } answer)
            {
                return answer;
            }

            try
            {
                // A local commit wakes it; a commit on another node is seen within the second.
                using var poll = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
                poll.CancelAfter(TimeSpan.FromSeconds(1));
                if (!await subscription.Reader.WaitToReadAsync(poll.Token))
                {
                    // Cut off (it fell behind): poll the run every second instead.
                    await Task.Delay(Timeout.Infinite, poll.Token);
                }

                while (subscription.Reader.TryRead(out _))
                {
                }
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                current = await runs.GetAsync(workspaceId, run.Id, cancellationToken) ?? current;
                return Answer(current) ?? new WebhookAnswer.Accepted(workspaceName, current.Id, current.DisplayId, current.Status, repeated);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The poll interval: look again.
            }

            current = await runs.GetAsync(workspaceId, run.Id, cancellationToken) ?? current;
        }
    }

    private static WebhookAnswer? Answer(RunResponse run)
    {
        if (run.Steps.FirstOrDefault(s => s.Activity == "respond" && s.Status == "succeeded") is { Output: JsonObject respond })
        {
            var headers = (respond["headers"] as JsonObject ?? []).Where(h => h.Value is JsonValue)
                .ToDictionary(h => h.Key, h => h.Value!.ToString(), StringComparer.OrdinalIgnoreCase);
            return new WebhookAnswer.Responded((int?)respond["status"] ?? 200, headers, respond["body"]?.DeepClone(), run.Id);
        }

        return run.Status switch
        {
            "succeeded" => new WebhookAnswer.Responded(200, new Dictionary<string, string>(), run.Output?.DeepClone(), run.Id),
            "failed" or "compensated" => new WebhookAnswer.RunFailed(run.Id),
            _ => null,
        };
    }

    /// <summary>The body as the run sees it (<c>context.body</c>), or null when it is not one Cadre reads.</summary>
    private static JsonNode? Parse(WebhookCall call)
    {
        if (call.Body.Length == 0)
        {
            return new JsonObject();
        }

        var type = call.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        if (type is null || IsJson(type))
        {
            try
            {
                return JsonNode.Parse(call.Body) ?? JsonValue.Create((string?)null);
            }
            catch (JsonException)
            {
                return null;
            }
        }

        if (type == "application/x-www-form-urlencoded")
        {
            var form = new JsonObject();
            foreach (var pair in Encoding.UTF8.GetString(call.Body).Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                var name = Uri.UnescapeDataString((equals < 0 ? pair : pair[..equals]).Replace('+', ' '));
                var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
                form[name] = form[name] switch
                {
                    null => value,
                    JsonArray values => new JsonArray([.. values.Select(v => v?.DeepClone()), value]),
                    var first => new JsonArray(first.DeepClone(), value),
                };
            }

            return form;
        }

        return type.StartsWith("text/", StringComparison.Ordinal) || type is "application/xml"
            ? JsonValue.Create(Encoding.UTF8.GetString(call.Body))
            : null;
    }

    private static bool IsJson(string type) => type.Split(';')[0].Trim() is var media && (media == "application/json" || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    /// <summary>The sender's ID for this delivery, the same on its retries.</summary>
    private static string? DeliveryId(WebhookCall call, JsonNode body, string? style)
    {
        foreach (var header in new[] { "webhook-id", "x-github-delivery", "idempotency-key" })
        {
            if (call.Headers.TryGetValue(header, out var id) && id.Length > 0)
            {
                return id;
            }
        }

        // Stripe retries an event with the same event ID in the body.
        return style == "stripe" && body is JsonObject stripeEvent && stripeEvent["id"] is JsonValue value && value.TryGetValue<string>(out var eventId) ? eventId : null;
    }
}
