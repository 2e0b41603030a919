using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Cli.Api;

namespace Cadre.Cli.Runs;

/// <summary>One event of a run's history, as its stream sends it: <c>step</c>, <c>status</c>, <c>message_delta</c>…</summary>
internal sealed record RunEvent(long Id, string Type, JsonObject Data);

/// <summary>
/// A run's server-sent events (<c>GET …/runs/{run}/stream</c>) read across dropped connections: each
/// reconnect sends the last event's id as <c>Last-Event-ID</c>, so the server resumes right after it and
/// nothing is missed or shown twice. The sequence ends after the run's final status.
/// </summary>
/// <param name="notice">Told when the connection is lost and taken up again, for the person watching.</param>
internal sealed class RunEventStream(CadreApiClient api, string streamPath, Action<string> notice, TimeProvider time)
{
    /// <summary>How long reconnecting is tried without getting an event through before giving up.</summary>
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    /// <summary>The id of the last event handed on; a reconnect resumes after it.</summary>
    public long? LastEventId { get; private set; }

    public async IAsyncEnumerable<RunEvent> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromMilliseconds(250);
        long? failingSince = null;
        var endedLast = false;
        var outage = false;
        while (true)
        {
            string? lost = null;
            HttpResponseMessage? response = null;
            try
            {
                response = await api.OpenStreamAsync(streamPath, LastEventId?.ToString(CultureInfo.InvariantCulture), cancellationToken);
            }
            catch (CliException ex) when (ex.ExitCode == ExitCodes.Unavailable && !cancellationToken.IsCancellationRequested)
            {
                // Unreachable, or a 5xx while the server restarts: worth trying again for a while.
                lost = ex.Message;
            }

            if (response is not null)
            {
                if (outage)
                {
                    notice("Reconnected; carrying on where it stopped.");
                    outage = false;
                }

                using (response)
                {
                    // A stream cut mid-read surfaces as an exception from MoveNext; a yield cannot sit inside that catch, so the
                    // enumerator is driven by hand.
                    var items = SseParser.Create(await response.Content.ReadAsStreamAsync(cancellationToken)).EnumerateAsync(cancellationToken)
                        .GetAsyncEnumerator(cancellationToken);
                    try
                    {
                        while (true)
                        {
                            try
                            {
                                if (!await items.MoveNextAsync())
                                {
                                    break;
                                }
                            }
                            catch (Exception ex) when (ex is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
                            {
                                lost = ex.Message;
                                break;
                            }

                            if (Parse(items.Current) is not { } item || item.Id <= LastEventId)
                            {
                                // A heartbeat, or (defensively) an event already handed on.
                                continue;
                            }

                            LastEventId = item.Id;
                            failingSince = null;
                            backoff = TimeSpan.FromMilliseconds(250);
                            endedLast = item.Type == "status" && (string?)item.Data["status"] is { } status && RunStatus.IsFinal(status);
                            yield return item;
                        }
                    }
                    finally
                    {
                        await items.DisposeAsync();
                    }
                }
            }

            // The server ends the stream after a final status that is still the run's last word; any other end is a cut.
            if (lost is null && endedLast)
            {
                yield break;
            }

            failingSince ??= time.GetTimestamp();
            if (time.GetElapsedTime(failingSince.Value) > GiveUpAfter)
            {
                throw new CliException($"Lost the run's stream and could not get it back for {GiveUpAfter.TotalSeconds:0} s ({lost ?? "closed"}).", ExitCodes.Unavailable);
            }

            if (!outage)
            {
                // Said once per outage, not at every try.
                notice(lost is null ? "The stream closed before the run ended; reconnecting…" : $"Lost the stream ({lost}); reconnecting…");
                outage = true;
            }

            await Task.Delay(backoff, time, cancellationToken);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    private static RunEvent? Parse(SseItem<string> item)
    {
        if (item.EventType == "heartbeat" || !long.TryParse(item.EventId, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return null;
        }

        JsonObject data;
        try
        {
            data = JsonNode.Parse(item.Data) as JsonObject ?? [];
        }
        catch (JsonException)
        {
            data = [];
        }

        return new RunEvent(id, item.EventType, data);
    }
}

/// <summary>What a run's status says about waiting for it.</summary>
internal static class RunStatus
{
    /// <summary>The run has ended for good: nothing more will happen unless someone retries it.</summary>
    public static bool IsFinal(string status) => status is "succeeded" or "failed" or "compensated";

    /// <summary>The run ended badly.</summary>
    public static bool IsFailure(string status) => status is "failed" or "compensated";
}
