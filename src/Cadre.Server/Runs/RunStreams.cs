using System.Diagnostics;
using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Cadre.Observability;
using Cadre.Runs;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Cadre.Server.Runs;

/// <summary>
/// Server-sent events of runs. The event log is the stream: a subscriber replays from the log what
/// its Last-Event-ID has not seen, then each local commit wakes it to read on from the log, so it
/// gets every event exactly once and in order however commits and wake-ups interleave. Subscribers
/// at the same place share one read (<see cref="SharedEventReads"/>). Idle, a subscriber still looks
/// every second (events of other nodes; a stream's subscribers look at the same moment, so they share
/// that read too) and sends a heartbeat every 15 seconds. A client that stops reading is disconnected
/// once a write has waited <see cref="HttpOptions.StreamStallTimeout"/>, so it holds no more than the
/// socket's buffers and one shared page of the log.
/// </summary>
internal static class RunStreams
{
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(15);

    /// <summary>How often an idle stream reads the log anyway, for events committed by other nodes.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> StreamRun(
        string run, [FromQuery(Name = "after")] long? after, [FromQuery(Name = "type")] string? type,
        WorkspaceAccess access, RunService runs, SharedEventReads reads, RunNotifier notifier, IHostApplicationLifetime lifetime, IOptions<HttpOptions> options,
        HttpContext http)
    {
        if (await runs.StatusAsync(access.Workspace.Id, run, http.RequestAborted) is null)
        {
            return Problems.NotFound($"Run '{run}' not found.");
        }

        if (LastEventId(http.Request, after) is not { } from)
        {
            return BadLastEventId();
        }

        var filter = Types(type);
        await WriteAsync(http, lifetime, options.Value.StreamStallTimeout, notifier.Subscribe(access.Workspace.Id, run), (subscription, stall) =>
            Events(runs, reads, new(access.Workspace.Id, run, null, from), filter, subscription, stall, http.RequestAborted));
        return TypedResults.Empty;
    }

    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> StreamWorkspace(
        [FromQuery(Name = "workflow")] string? workflow, [FromQuery(Name = "run")] string? run, [FromQuery(Name = "after")] long? after, [FromQuery(Name = "type")] string? type,
        WorkspaceAccess access, RunService runs, SharedEventReads reads, RunNotifier notifier, IHostApplicationLifetime lifetime, IOptions<HttpOptions> options,
        HttpContext http)
    {
        if (LastEventId(http.Request, after) is not { } from)
        {
            return BadLastEventId();
        }

        string? workflowId = null;
        if (workflow is not null && (workflowId = await runs.WorkflowIdAsync(access.Workspace.Id, workflow, http.RequestAborted)) is null)
        {
            return Problems.BadQuery(new Dictionary<string, string[]> { ["workflow"] = [$"No workflow '{workflow}' in this workspace."] });
        }

        var filter = Types(type);
        await WriteAsync(http, lifetime, options.Value.StreamStallTimeout, notifier.Subscribe(access.Workspace.Id, run), (subscription, stall) =>
            Events(runs, reads, new(access.Workspace.Id, run, workflowId, from), filter, subscription, stall, http.RequestAborted, endWithRun: false));
        return TypedResults.Empty;
    }

    /// <summary>A comma-separated <c>type</c> filter, or null for all types.</summary>
    internal static string[]? Types(string? type) =>
        type?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) is { Length: > 0 } types ? types : null;

    private static long? LastEventId(HttpRequest request, long? after)
    {
        var header = request.Headers["Last-Event-ID"].ToString();
        if (header.Length == 0)
        {
            return after ?? 0;
        }

        return long.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
    }

    private static ProblemHttpResult BadLastEventId() =>
        Problems.Problem(StatusCodes.Status400BadRequest, "Invalid Last-Event-ID", "Last-Event-ID must be the id of an event this stream sent (a whole number).");

    private static async Task WriteAsync(
        HttpContext http, IHostApplicationLifetime lifetime, TimeSpan stallTimeout, RunNotifier.Subscription subscription,
        Func<RunNotifier.Subscription, StallWatch, IAsyncEnumerable<SseItem<string>>> events)
    {
        using var _ = subscription;
        var metrics = http.RequestServices.GetRequiredService<CadreMetrics>();
        metrics.SseSubscribed();
        try
        {
            await StreamAsync(http, lifetime, stallTimeout, subscription, events);
        }
        finally
        {
            metrics.SseUnsubscribed();
        }
    }

    private static async Task StreamAsync(
        HttpContext http, IHostApplicationLifetime lifetime, TimeSpan stallTimeout, RunNotifier.Subscription subscription,
        Func<RunNotifier.Subscription, StallWatch, IAsyncEnumerable<SseItem<string>>> events)
    {
        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        // A client that stopped reading blocks the write; the stall watch (or being cut off, or the server stopping) cancels it.
        using var stall = new StallWatch(stallTimeout);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping, subscription.CutOffToken, stall.Token);
        try
        {
            await response.Body.FlushAsync(stop.Token);
            await SseFormatter.WriteAsync(events(subscription, stall), response.Body, stop.Token);
        }
        catch (OperationCanceledException)
        {
            // The client went away, fell too far behind, or the server is stopping: a normal end.
        }

        if (subscription.CutOffToken.IsCancellationRequested || stall.Token.IsCancellationRequested)
        {
            // Closed without a clean end, so the client knows to reconnect with its Last-Event-ID.
            http.Abort();
        }
    }

    /// <summary>Fires when one event's write has waited on the client longer than the stall timeout.</summary>
    internal sealed class StallWatch(TimeSpan timeout) : IDisposable
    {
        private readonly CancellationTokenSource _source = new();

        public CancellationToken Token => _source.Token;

        public void Writing() => _source.CancelAfter(timeout);

        public void Written() => _source.CancelAfter(Timeout.InfiniteTimeSpan);

        public void Dispose() => _source.Dispose();
    }

    private static async IAsyncEnumerable<SseItem<string>> Events(
        RunService runs, SharedEventReads reads, SharedEventReads.StreamPosition position, string[]? types, RunNotifier.Subscription subscription,
        StallWatch stall, [EnumeratorCancellation] CancellationToken cancellationToken, bool endWithRun = true)
    {
        // Subscribed already: whatever commits from here on wakes this stream, so a read from now on misses nothing.
        var freshAsOf = Stopwatch.GetTimestamp();
        var pollPhase = PollPhase(position);
        var sinceHeartbeat = DateTime.UtcNow;
        while (!cancellationToken.IsCancellationRequested && !subscription.CutOffToken.IsCancellationRequested)
        {
            IReadOnlyList<StreamEvent> page;
            var endedLast = false;
            do
            {
                page = await reads.ReadAsync(position, freshAsOf, cancellationToken);
                foreach (var item in page)
                {
                    position = position with { After = item.Id };
                    if (types is null || types.Contains(item.Type))
                    {
                        // The consumer asks for the next item only once this one is written: the time between is the write.
                        stall.Writing();
                        yield return new SseItem<string>(item.Data, item.Type) { EventId = item.EventId };
                        stall.Written();
                        sinceHeartbeat = DateTime.UtcNow;
                    }

                    endedLast = item.EndsRun;
                }
            }
            while (page.Count == SharedEventReads.PageSize);

            // A final status ends the stream only while it is the run's last word: a failed run that was
            // retried since has more to say, and a replay carries on past its first ending.
            if (endWithRun && endedLast && await runs.StatusAsync(position.WorkspaceId, position.RunId!, cancellationToken) is "succeeded" or "failed" or "compensated")
            {
                yield break;
            }

            var (idle, news) = await WaitForNewsAsync(subscription, pollPhase, cancellationToken);
            freshAsOf = news;
            if (idle && DateTime.UtcNow - sinceHeartbeat >= HeartbeatInterval)
            {
                stall.Writing();
                yield return new SseItem<string>("{}", "heartbeat");
                stall.Written();
                sinceHeartbeat = DateTime.UtcNow;
            }
        }
    }

    /// <summary>
    /// Where in each <see cref="PollInterval"/> this stream's idle subscribers look, in <see cref="Stopwatch"/> ticks: the same
    /// for every subscriber of the stream, so they look together and share the read; spread over the interval across streams.
    /// </summary>
    private static long PollPhase(SharedEventReads.StreamPosition position) =>
        (long)((uint)HashCode.Combine(position.WorkspaceId, position.RunId, position.WorkflowId) % (ulong)PollTicks);

    private static long PollTicks => (long)(PollInterval.TotalSeconds * Stopwatch.Frequency);

    /// <summary>
    /// Waits for a local commit's wake-up or this stream's next poll. Answers whether it was only the poll, and how fresh
    /// the next read must be: no older than the latest wake-up (raised after its commit), or than the poll's moment.
    /// </summary>
    private static async Task<(bool Idle, long FreshAsOf)> WaitForNewsAsync(RunNotifier.Subscription subscription, long pollPhase, CancellationToken cancellationToken)
    {
        var now = Stopwatch.GetTimestamp();
        var poll = (now - pollPhase) / PollTicks * PollTicks + PollTicks + pollPhase;
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(Stopwatch.GetElapsedTime(now, poll));
        try
        {
            if (!await subscription.Reader.WaitToReadAsync(wait.Token))
            {
                // Completed: cut off for falling behind, or disposed.
                await Task.Delay(Timeout.Infinite, subscription.CutOffToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                return (false, Stopwatch.GetTimestamp());
            }

            var freshAsOf = 0L;
            while (subscription.Reader.TryRead(out var signal))
            {
                // Only a wake-up: the events are read from the log, in order.
                freshAsOf = Math.Max(freshAsOf, signal.At);
            }

            return (false, freshAsOf);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (true, poll);
        }
    }
}
