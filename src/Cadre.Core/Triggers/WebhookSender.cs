using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Cadre.Common;
using Cadre.Net;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cadre.Triggers;

/// <summary>Outbound webhook deliveries. Section <c>Cadre:Webhooks</c>.</summary>
public sealed class WebhookOptions
{
    public const string SectionName = "Cadre:Webhooks";

    /// <summary>How long one attempt may take before it counts as failed (default 10 s).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The wait after the first failed attempt; each next wait doubles (default 5 s).</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between attempts (default 1 h).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A delivery still failing this long after it was made is given up (dead; default 24 h).</summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a node holds a delivery it is sending; a node that dies holding it loses it then (default 1 min).</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often an idle sender looks for due deliveries (default 1 s; a local commit wakes it at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Deliveries one node sends at once (default 8).</summary>
    public int Concurrency { get; set; } = 8;
}

/// <summary>
/// Posts due deliveries: each node leases a batch (a conditional update, so two nodes never hold one
/// delivery at once), posts each with Standard Webhooks headers (<c>webhook-id</c> is the delivery's
/// ID on every attempt, so receivers de-duplicate), and records the attempt. A 2xx answer delivers;
/// anything else (an error status, a timeout, a refused address, a redirect, which is not followed)
/// waits with exponential backoff and tries again, until <see cref="WebhookOptions.GiveUpAfter"/>.
/// A node killed mid-attempt leaves the lease to expire; the delivery is then sent again, with the same ID.
/// </summary>
internal sealed partial class WebhookSender(
    IServiceScopeFactory scopes, OutboundHttp outbound, ISecretProtector protector, IOptions<WebhookOptions> options,
    TimeProvider time, Observability.CadreMetrics metrics, ILogger<WebhookSender> logger) : BackgroundService
{
    public const int MaxResponseExcerpt = 1024;

    private readonly string _owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly HttpClient _client = new(WithoutRedirects(outbound)) { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>New deliveries were committed on this node: look now.</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        while (!stoppingToken.IsCancellationRequested)
        {
            var sent = 0;
            try
            {
                var leased = await LeaseAsync(settings, stoppingToken);
                await Parallel.ForEachAsync(leased, new ParallelOptions { MaxDegreeOfParallelism = settings.Concurrency, CancellationToken = stoppingToken },
                    async (id, token) =>
                    {
                        try
                        {
                            await SendAsync(id, settings, token);
                        }
                        catch (Exception ex) when (!token.IsCancellationRequested)
                        {
                            // One delivery failing to record must not stop the others; its lease expires and it is sent again.
                            LogSendFailed(ex, id);
                        }
                    });
                sent = leased.Count;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The database may be down for a moment: leases expire and the next round tries again.
                LogRoundFailed(ex);
            }

            if (sent == 0)
            {
                try
                {
                    await _wake.WaitAsync(settings.PollInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task<List<string>> LeaseAsync(WebhookOptions settings, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
        var now = time.GetUtcNowTruncated();
        var due = await db.WebhookDeliveries.AsNoTracking()
            .Where(d => d.Status == "pending" && d.NextAttemptAt <= now && (d.LeaseExpiresAt == null || d.LeaseExpiresAt < now))
            .OrderBy(d => d.NextAttemptAt).Select(d => d.Id).Take(settings.Concurrency * 2).ToListAsync(cancellationToken);
        var leased = new List<string>();
        var until = now + settings.LeaseDuration;
        foreach (var id in due)
        {
            // Taken only if nobody took it since the read.
            if (await db.WebhookDeliveries.Where(d => d.Id == id && d.Status == "pending" && (d.LeaseExpiresAt == null || d.LeaseExpiresAt < now))
                    .ExecuteUpdateAsync(d => d.SetProperty(x => x.LeaseOwner, _owner).SetProperty(x => x.LeaseExpiresAt, until), cancellationToken) == 1)
            {
                leased.Add(id);
            }
        }

        return leased;
    }

    private async Task SendAsync(string id, WebhookOptions settings, CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
        var delivery = await db.WebhookDeliveries.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, stoppingToken);
        if (delivery is null || delivery.LeaseOwner != _owner)
        {
            return;
        }

        var started = time.GetUtcNowTruncated();
        var clock = Stopwatch.StartNew();
        int? status = null;
        string? error = null;
        string? excerpt = null;
        try
        {
            var secret = await SecretAsync(db, scope.ServiceProvider.GetRequiredService<Secrets.SecretService>(), delivery, stoppingToken);
            using var request = Request(delivery, secret, time.GetUtcNow().ToUnixTimeSeconds());
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            attempt.CancelAfter(settings.Timeout);
            try
            {
                using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token);
                status = (int)response.StatusCode;
                excerpt = await ExcerptAsync(response, attempt.Token);
                if (status is >= 300 and < 400)
                {
                    error = $"The receiver redirected ({status}) to {response.Headers.Location}; webhooks do not follow redirects.";
                }
                else if (status is not (>= 200 and < 300))
                {
                    error = $"The receiver answered {status}.";
                }
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                error = $"No answer within {settings.Timeout.TotalSeconds:0.###} s.";
            }
            catch (HttpRequestException ex)
            {
                error = ex.InnerException is OutboundRefusedException refused ? refused.Message : $"Could not reach the receiver: {ex.Message}";
            }
        }
        catch (MissingSigningSecretException ex)
        {
            error = ex.Message;
        }

        if (stoppingToken.IsCancellationRequested)
        {
            // Shutting down mid-attempt: the lease expires and the delivery is sent again, with the same ID.
            return;
        }

        await RecordAsync(db, delivery, settings, started, (int)clock.ElapsedMilliseconds, status, error, excerpt, stoppingToken);
    }

    private async Task RecordAsync(
        CadreDbContext db, WebhookDelivery delivery, WebhookOptions settings, DateTime started, int durationMs, int? status, string? error, string? excerpt,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNowTruncated();
        var attempt = delivery.Attempts + 1;
        var delivered = error is null;
        var giveUp = !delivered && now - delivery.CreatedAt >= settings.GiveUpAfter;
        var next = delivered || giveUp ? (DateTime?)null : now + Backoff(settings, attempt);
        var newStatus = delivered ? "delivered" : giveUp ? "dead" : "pending";
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Recorded only while this node still holds the lease: one that lost it (it took too long) leaves the record to the new holder.
        var updated = await db.WebhookDeliveries.Where(d => d.Id == delivery.Id && d.LeaseOwner == _owner && d.Status == "pending")
            .ExecuteUpdateAsync(d => d
                .SetProperty(x => x.Status, newStatus)
                .SetProperty(x => x.Attempts, attempt)
                .SetProperty(x => x.NextAttemptAt, next)
                .SetProperty(x => x.LastStatusCode, status)
                .SetProperty(x => x.LastError, error)
                .SetProperty(x => x.FinishedAt, delivered || giveUp ? now : null)
                .SetProperty(x => x.LeaseOwner, (string?)null)
                .SetProperty(x => x.LeaseExpiresAt, (DateTime?)null), cancellationToken);
        if (updated == 0)
        {
            return;
        }

        db.WebhookDeliveryAttempts.Add(new WebhookDeliveryAttempt
        {
            DeliveryId = delivery.Id, Attempt = attempt, StartedAt = started, DurationMs = durationMs, StatusCode = status, Error = error, Response = excerpt,
        });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        metrics.WebhookDelivery(delivered ? "delivered" : giveUp ? "dead" : "failed");
        if (giveUp)
        {
            LogGaveUp(delivery.Id, delivery.Url, attempt, error);
        }
    }

    /// <summary>The wait after failed attempt <paramref name="attempt"/>: doubling from the first delay, at most the maximum, with up to 20 % jitter so receivers coming back are not hit by every sender at once.</summary>
    internal static TimeSpan Backoff(WebhookOptions settings, int attempt)
    {
        var doubled = settings.FirstRetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        var wait = Math.Min(doubled, settings.MaxRetryDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(wait * (1 + (Random.Shared.NextDouble() * 0.2)));
    }

    private async Task<string?> SecretAsync(CadreDbContext db, Secrets.SecretService secrets, WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        if (delivery.SubscriptionId is { } subscriptionId)
        {
            var protectedSecret = await db.WebhookSubscriptions.AsNoTracking().Where(s => s.Id == subscriptionId).Select(s => s.SecretProtected).FirstOrDefaultAsync(cancellationToken);
            return protectedSecret is null ? null : protector.Unprotect(protectedSecret) ?? throw new MissingSigningSecretException("The subscription's signing secret cannot be decrypted (was the key ring lost?); rotate it.");
        }

        if (delivery.SigningSecret is not { } name)
        {
            return null;
        }

        try
        {
            if (await secrets.RevealAsync(delivery.WorkspaceId, name, cancellationToken) is { } value)
            {
                return value;
            }
        }
        catch (Secrets.SecretUnreadableException ex)
        {
            throw new MissingSigningSecretException(ex.Message);
        }

        // Sending unsigned what the workflow asked to sign would let a receiver accept a forgery later: wait for the secret instead.
        throw new MissingSigningSecretException($"The signing secret '{name}' does not exist in the workspace.");
    }

    private static HttpRequestMessage Request(WebhookDelivery delivery, string? secret, long timestamp)
    {
        var body = Encoding.UTF8.GetBytes(delivery.Payload);
        var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add("webhook-id", delivery.Id);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        if (secret is not null)
        {
            request.Headers.Add("webhook-signature", WebhookSignatures.SignStandard(secret, delivery.Id, timestamp, body));
        }

        request.Headers.UserAgent.ParseAdd("Cadre-Webhooks/1.0");
        return request;
    }

    private static async Task<string?> ExcerptAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxResponseExcerpt];
        var read = 0;
        while (read < buffer.Length && await stream.ReadAsync(buffer.AsMemory(read), cancellationToken) is > 0 and var n)
        {
            read += n;
        }

        return read == 0 ? null : Encoding.UTF8.GetString(buffer, 0, read);
    }

    private static SocketsHttpHandler WithoutRedirects(OutboundHttp outbound)
    {
        var handler = outbound.CreateHandler(guarded: true);
        handler.AllowAutoRedirect = false;
        return handler;
    }

    public override void Dispose()
    {
        _client.Dispose();
        _wake.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId} to {Url} given up after {Attempts} attempts: {Error}")]
    private partial void LogGaveUp(string deliveryId, string url, int attempts, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId} could not be sent or recorded; it is tried again when its lease ends")]
    private partial void LogSendFailed(Exception exception, string deliveryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A round of webhook deliveries failed; the next one tries again")]
    private partial void LogRoundFailed(Exception exception);

    private sealed class MissingSigningSecretException(string message) : Exception(message);
}
