using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Cadre.Runs;

/// <summary>"Run <see cref="RunId"/> has new events": what wakes a stream to read on from the log.</summary>
public sealed record RunSignal(string WorkspaceId, string RunId);

/// <summary>A run event as streams read it from the log.</summary>
public sealed record RunEventMessage(long Id, string RunId, string WorkspaceId, string Type, JsonObject Data, DateTime CreatedAt);

/// <summary>
/// What this node says about runs after a commit, in process: events to stream subscribers,
/// "there is work" to idle workers, and "this run ended" to requests waiting for it. Everything it
/// carries is already committed; a subscriber that misses something reads it back from the log.
/// </summary>
public sealed class RunNotifier : IDisposable
{
    /// <summary>Commits with events a subscriber may have unread before it is cut off (it resumes from its last id).</summary>
    public const int SubscriberBuffer = 1024;

    private readonly ConcurrentDictionary<Guid, Subscription> _subscriptions = new();
    private readonly ConcurrentDictionary<string, List<TaskCompletionSource>> _finishWaiters = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _work = new(0);
    private readonly ConcurrentDictionary<string, List<Action>> _signalHandlers = new(StringComparer.Ordinal);

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
        var signal = new RunSignal(workspaceId, runId);
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
            if (await isFinished())
            {
                return true;
            }

            await signal.Task.WaitAsync(timeout, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
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

    /// <summary>Calls <paramref name="onHalt"/> if the run is halted on this node while the registration lives (other nodes see it in the heartbeat).</summary>
    internal IDisposable OnHalt(string runId, Action onHalt) => On(runId, onHalt);

    internal void Halted(string runId) => Signal(runId);

    /// <summary>Calls <paramref name="onInterrupt"/> when a session prompt on this node asks the run's running turn to stop.</summary>
    internal IDisposable OnInterrupt(string runId, Action onInterrupt) => On("interrupt:" + runId, onInterrupt);

    internal void Interrupted(string runId) => Signal("interrupt:" + runId);

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
