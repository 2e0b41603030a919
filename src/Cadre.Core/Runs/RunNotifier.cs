using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Cadre.Runs;

/// <summary>
/// "Run <see cref="RunId"/> has new events": what wakes a stream to read on from the log. <see cref="At"/> is when it
/// was raised (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), after the commit it announces: a read of the log
/// that starts no earlier sees that commit.
/// </summary>
public sealed record RunSignal(string WorkspaceId, string RunId, long At);

/// <summary>A run event as streams read it from the log.</summary>
public sealed record RunEventMessage(long Id, string RunId, string WorkspaceId, string Type, JsonObject Data, DateTime CreatedAt);

/// <summary>What a commit tells waiting parties, as carried between nodes (see <see cref="RunNotifier.Outbound"/>).</summary>
public enum ClusterSignalKind
{
    /// <summary>A run has new events in its log (<c>WorkspaceId</c>, <c>RunId</c>).</summary>
    RunEvents,

    /// <summary><c>Count</c> tasks became ready.</summary>
    Work,

    /// <summary>The run reached a terminal state.</summary>
    Finished,

    /// <summary>The run was halted: its running attempts stop.</summary>
    Halted,

    /// <summary>A session prompt asks the run's running turn to stop.</summary>
    Interrupted,
}

/// <summary>One thing a commit tells waiting parties, on this node or another.</summary>
public sealed record ClusterSignal(ClusterSignalKind Kind, string? WorkspaceId = null, string? RunId = null, int Count = 0);

/// <summary>
/// What this node says about runs after a commit: events to stream subscribers, "there is work" to
/// idle workers, "this run ended" to requests waiting for it, halts and interrupts to running
/// attempts. Applied here at once, and handed to <see cref="Outbound"/> for the other nodes
/// (PostgreSQL's NOTIFY, see <c>ClusterSignals</c>). Everything it carries is already committed; a
/// party that misses a signal (another node's, lost with a connection) finds the news by polling
/// the database, so signals make things prompt but are never what makes them correct.
/// </summary>
public sealed class RunNotifier : IDisposable
{
    /// <summary>Commits with events a subscriber may have unread before it is cut off (it resumes from its last id).</summary>
    public const int SubscriberBuffer = 1024;

    /// <summary>How often a wait for a run's end looks at the run itself, in case its signal was lost.</summary>
    internal static readonly TimeSpan FinishPollInterval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<Guid, Subscription> _subscriptions = new();
    private readonly ConcurrentDictionary<string, List<TaskCompletionSource>> _finishWaiters = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _work = new(0);
    private readonly ConcurrentDictionary<string, List<Action>> _signalHandlers = new(StringComparer.Ordinal);

    /// <summary>Where this node's signals go for the other nodes; unset on a single node (SQLite).</summary>
    internal Action<ClusterSignal>? Outbound { get; set; }

    /// <summary>How many stream subscriptions are open on this node.</summary>
    public int SubscriberCount => _subscriptions.Count;

    /// <summary>Subscribes to the events of one run (or, with null, of one workspace's runs).</summary>
    public Subscription Subscribe(string workspaceId, string? runId)
    {
        var subscription = new Subscription(this, workspaceId, runId);
        _subscriptions[subscription.Key] = subscription;
        return subscription;
    }

    /// <summary>A commit added events to a run: wakes its subscribers (and the workspace's) to read them from the log.</summary>
    internal void Publish(string workspaceId, string runId)
    {
        PublishHere(workspaceId, runId);
        Outbound?.Invoke(new ClusterSignal(ClusterSignalKind.RunEvents, workspaceId, runId));
    }

    /// <summary>Applies another node's signal here (and sends nothing on).</summary>
    internal void Apply(ClusterSignal signal)
    {
        ArgumentNullException.ThrowIfNull(signal);
        switch (signal.Kind)
        {
            case ClusterSignalKind.RunEvents when signal.WorkspaceId is not null && signal.RunId is not null:
                PublishHere(signal.WorkspaceId, signal.RunId);
                break;
            case ClusterSignalKind.Work:
                WorkAvailableHere(signal.Count);
                break;
            case ClusterSignalKind.Finished when signal.RunId is not null:
                FinishedHere(signal.RunId);
                break;
            case ClusterSignalKind.Halted when signal.RunId is not null:
                Signal(signal.RunId);
                break;
            case ClusterSignalKind.Interrupted when signal.RunId is not null:
                Signal("interrupt:" + signal.RunId);
                break;
        }
    }

    /// <summary>
    /// Signals from other nodes may have been lost (the connection that carries them was down): wakes
    /// every subscriber and idle worker here to look at the database afresh.
    /// </summary>
    internal void Resync()
    {
        foreach (var subscription in _subscriptions.Values)
        {
            if (!subscription.Writer.TryWrite(new RunSignal(subscription.WorkspaceId, subscription.RunId ?? "", Stopwatch.GetTimestamp())))
            {
                subscription.CutOff();
            }
        }

        WorkAvailableHere(64);
    }

    private void PublishHere(string workspaceId, string runId)
    {
        var signal = new RunSignal(workspaceId, runId, Stopwatch.GetTimestamp());
        foreach (var subscription in _subscriptions.Values)
        {
            if (subscription.WorkspaceId == workspaceId && (subscription.RunId is null || subscription.RunId == runId)
                && !subscription.Writer.TryWrite(signal))
            {
                // Full: the client is not reading. Cut it off rather than buffer without bound.
                subscription.CutOff();
            }
        }
    }

    /// <summary>Completes when the run reaches a terminal state (or at once, if <paramref name="isFinished"/> says it has).</summary>
    public async Task<bool> WaitForFinishAsync(string runId, Func<Task<bool>> isFinished, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(isFinished);
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiters = _finishWaiters.GetOrAdd(runId, _ => []);
        lock (waiters)
        {
            waiters.Add(signal);
        }

        try
        {
            // Registered before looking, so a finish between the look and the wait is not missed.
            var deadline = DateTime.UtcNow + timeout;
            while (!await isFinished())
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    return false;
                }

                try
                {
                    // Another node's finish comes as a signal too, but a lost one is found by looking again each second.
                    await signal.Task.WaitAsync(left < FinishPollInterval ? left : FinishPollInterval, cancellationToken);
                    return true;
                }
                catch (TimeoutException)
                {
                }
            }

            return true;
        }
        finally
        {
            lock (waiters)
            {
                waiters.Remove(signal);
                if (waiters.Count == 0)
                {
                    _finishWaiters.TryRemove(KeyValuePair.Create(runId, waiters));
                }
            }
        }
    }

    internal void Finished(string runId)
    {
        FinishedHere(runId);
        Outbound?.Invoke(new ClusterSignal(ClusterSignalKind.Finished, RunId: runId));
    }

    private void FinishedHere(string runId)
    {
        if (_finishWaiters.TryGetValue(runId, out var waiters))
        {
            lock (waiters)
            {
                foreach (var waiter in waiters)
                {
                    waiter.TrySetResult();
                }
            }
        }
    }

    /// <summary>Calls <paramref name="onHalt"/> when the run is halted (on this node, or on another through its signal; the lease heartbeat is the fallback).</summary>
    internal IDisposable OnHalt(string runId, Action onHalt) => On(runId, onHalt);

    internal void Halted(string runId)
    {
        Signal(runId);
        Outbound?.Invoke(new ClusterSignal(ClusterSignalKind.Halted, RunId: runId));
    }

    /// <summary>Calls <paramref name="onInterrupt"/> when a session prompt on this node asks the run's running turn to stop.</summary>
    internal IDisposable OnInterrupt(string runId, Action onInterrupt) => On("interrupt:" + runId, onInterrupt);

    internal void Interrupted(string runId)
    {
        Signal("interrupt:" + runId);
        Outbound?.Invoke(new ClusterSignal(ClusterSignalKind.Interrupted, RunId: runId));
    }

    private Registration On(string key, Action handler)
    {
        var handlers = _signalHandlers.GetOrAdd(key, _ => []);
        lock (handlers)
        {
            handlers.Add(handler);
        }

        return new Registration(() =>
        {
            lock (handlers)
            {
                handlers.Remove(handler);
                if (handlers.Count == 0)
                {
                    // Dropped only while still empty under the lock; a racing registration re-adds its own list.
                    _signalHandlers.TryRemove(KeyValuePair.Create(key, handlers));
                }
            }
        });
    }

    private void Signal(string key)
    {
        if (_signalHandlers.TryGetValue(key, out var handlers))
        {
            Action[] snapshot;
            lock (handlers)
            {
                snapshot = [.. handlers];
            }

            foreach (var handler in snapshot)
            {
                handler();
            }
        }
    }

    /// <summary>New tasks are queued: wake a worker.</summary>
    internal void WorkAvailable(int count)
    {
        if (count > 0)
        {
            WorkAvailableHere(count);
            Outbound?.Invoke(new ClusterSignal(ClusterSignalKind.Work, Count: count));
        }
    }

    private void WorkAvailableHere(int count)
    {
        if (count > 0)
        {
            _work.Release(Math.Min(count, 64));
        }
    }

    /// <summary>Waits for a wake-up or the poll interval.</summary>
    internal async Task WaitForWorkAsync(TimeSpan poll, CancellationToken cancellationToken)
    {
        try
        {
            await _work.WaitAsync(poll, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose() => _work.Dispose();

    private sealed class Registration(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }

    public sealed class Subscription : IDisposable
    {
        private readonly RunNotifier _owner;
        private readonly Channel<RunSignal> _channel = Channel.CreateBounded<RunSignal>(
            new BoundedChannelOptions(SubscriberBuffer) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

        internal Subscription(RunNotifier owner, string workspaceId, string? runId)
        {
            _owner = owner;
            WorkspaceId = workspaceId;
            RunId = runId;
        }

        private readonly CancellationTokenSource _cutOff = new();

        internal Guid Key { get; } = Guid.NewGuid();

        /// <summary>Cancelled when the subscriber fell too far behind: whatever it is blocked on (a write to a client that does not read) should stop.</summary>
        public CancellationToken CutOffToken => _cutOff.Token;

        public string WorkspaceId { get; }

        public string? RunId { get; }

        internal ChannelWriter<RunSignal> Writer => _channel.Writer;

        public ChannelReader<RunSignal> Reader => _channel.Reader;

        internal void CutOff()
        {
            _owner._subscriptions.TryRemove(Key, out _);
            _channel.Writer.TryComplete(new SubscriberTooSlowException());
            try
            {
                _cutOff.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Disposed meanwhile: nobody is listening any more.
            }
        }

        public void Dispose()
        {
            _owner._subscriptions.TryRemove(Key, out _);
            _channel.Writer.TryComplete();
            _cutOff.Dispose();
        }
    }
}

/// <summary>The subscriber fell more than <see cref="RunNotifier.SubscriberBuffer"/> events behind and was cut off.</summary>
public sealed class SubscriberTooSlowException() : Exception("The stream fell too far behind; reconnect with Last-Event-ID to resume.");
