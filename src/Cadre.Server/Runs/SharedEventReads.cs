using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Cadre.Runs;
using Cadre.Storage;

namespace Cadre.Server.Runs;

/// <summary>One event as streams send it: serialized once, shared by every subscriber that sends it.</summary>
internal sealed record StreamEvent(long Id, string EventId, string Type, string Data, bool EndsRun);

/// <summary>
/// The event log as streams read it, one query per stream position however many subscribers wait
/// there. Subscribers of one stream are woken together by one commit and, caught up, wait at the same
/// position: the first read that starts after that commit answers them all. So 500 clients on a
/// workspace's stream cost one query per commit, not 500 (battery item 12 measured what 500 did to
/// everyone else's latency). Pages are immutable and shared, so a stalled client holds none of its own.
/// </summary>
/// <remarks>
/// Freshness is what makes sharing safe: a subscriber woken by a signal raised at time T (always after
/// the commit it announces) joins only a read that started at or after T, which therefore sees that
/// commit. Timestamps are <see cref="Stopwatch"/> ticks, not the injected clock: this orders real
/// queries against real commits, which a test's frozen clock must not make look simultaneous.
/// </remarks>
internal sealed class SharedEventReads(IServiceScopeFactory scopes, StorageProvider storage, IHostApplicationLifetime lifetime)
{
    /// <summary>
    /// Events read from the log at a time. A page is shared, but a subscriber still holds the one it is writing
    /// while its client reads: 500 stalled clients once held their own pages of 500 parsed events, about 770 MiB.
    /// </summary>
    public const int PageSize = 100;

    /// <summary>How long a finished read stays joinable by subscribers that woke late for the same commit.</summary>
    private static readonly long KeepFor = Stopwatch.Frequency;

    private readonly ConcurrentDictionary<StreamPosition, Read> _reads = new();
    private long _lastSweep = Stopwatch.GetTimestamp();
    private long _queries;

    /// <summary>Queries run so far (tests check that subscribers share them).</summary>
    public long Queries => Interlocked.Read(ref _queries);

    /// <summary>
    /// The page of events after <paramref name="position"/>, from a query that started no earlier than
    /// <paramref name="freshAsOf"/> (a <see cref="Stopwatch"/> timestamp), or from any query if it read a
    /// final full page: one already under way or just finished, or a new one.
    /// </summary>
    public Task<IReadOnlyList<StreamEvent>> ReadAsync(StreamPosition position, long freshAsOf, CancellationToken cancellationToken)
    {
        while (true)
        {
            var existing = _reads.TryGetValue(position, out var read) ? read : null;
            if (existing is not null && (existing.StartedAt >= freshAsOf ? !existing.Failed : existing.Full && IsFinal(position)))
            {
                return existing.Page.Value.WaitAsync(cancellationToken);
            }

            // Started only once it is in the map, so a read that lost the race to another never runs.
            var fresh = new Read(Stopwatch.GetTimestamp(), new Lazy<Task<IReadOnlyList<StreamEvent>>>(() => QueryAsync(position)));
            if (existing is null ? _reads.TryAdd(position, fresh) : _reads.TryUpdate(position, fresh, existing))
            {
                SweepNowAndThen(fresh.StartedAt);
                return fresh.Page.Value.WaitAsync(cancellationToken);
            }

            // Another subscriber put its read there meanwhile: look again, it is probably fresh enough.
        }
    }

    /// <summary>
    /// Whether a full page at this position is final however old: no event can later appear inside it, since newer
    /// commits' events come after it. True of a run's stream; of a workspace's only where events of different runs
    /// become visible in id order. Replays from far back then share their pages too.
    /// </summary>
    private bool IsFinal(StreamPosition position) => position.RunId is not null || storage.EventsVisibleInIdOrder;

    private async Task<IReadOnlyList<StreamEvent>> QueryAsync(StreamPosition position)
    {
        Interlocked.Increment(ref _queries);
        // Not any one subscriber's cancellation: the others wait on this query too.
        await using var scope = scopes.CreateAsyncScope();
        var runs = scope.ServiceProvider.GetRequiredService<RunService>();
        var messages = await runs.EventsAfterAsync(position.WorkspaceId, position.RunId, position.After, PageSize, lifetime.ApplicationStopping, position.WorkflowId);
        return [.. messages.Select(message => new StreamEvent(
            message.Id,
            message.Id.ToString(CultureInfo.InvariantCulture),
            message.Type,
            message.Data.ToJsonString(),
            message.Type == "status" && (string?)message.Data["status"] is "succeeded" or "failed" or "compensated"))];
    }

    /// <summary>At most once a second, forgets the reads too old for anyone to join.</summary>
    private void SweepNowAndThen(long now)
    {
        var last = Interlocked.Read(ref _lastSweep);
        if (now - last < KeepFor || Interlocked.CompareExchange(ref _lastSweep, now, last) != last)
        {
            return;
        }

        foreach (var (position, read) in _reads)
        {
            if (now - read.StartedAt > KeepFor && read.Page.IsValueCreated && read.Page.Value.IsCompleted)
            {
                _reads.TryRemove(KeyValuePair.Create(position, read));
            }
        }
    }

    /// <summary>Where a subscriber is in a stream: its filters and the last event it has seen.</summary>
    public readonly record struct StreamPosition(string WorkspaceId, string? RunId, string? WorkflowId, long After);

    /// <summary>One query, and when it started.</summary>
    private sealed record Read(long StartedAt, Lazy<Task<IReadOnlyList<StreamEvent>>> Page)
    {
        /// <summary>Nobody joins a failed read: the next subscriber to come asks again.</summary>
        public bool Failed => Page.IsValueCreated && Page.Value is { IsCompleted: true, IsCompletedSuccessfully: false };

        /// <summary>A full page, which <see cref="IsFinal"/> may make as good as a fresh one.</summary>
        public bool Full => Page.IsValueCreated && Page.Value is { IsCompletedSuccessfully: true, Result.Count: PageSize };
    }
}
