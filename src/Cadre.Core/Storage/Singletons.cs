using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cadre.Storage;

/// <summary>
/// A duty of the whole installation that one node does at a time, and the key of the PostgreSQL
/// advisory lock that says which node. Keys are 'cadre' in ASCII (the setup lock's key) shifted up a
/// byte, plus the duty's number, so they never meet the setup lock or another application's small keys.
/// </summary>
internal sealed record SingletonLock(string Name, long Key)
{
    public static readonly SingletonLock Housekeeping = new("housekeeping", 0x63_61_64_72_65_01);

    public static readonly SingletonLock Retention = new("retention", 0x63_61_64_72_65_02);

    public static readonly SingletonLock AbandonedChildren = new("abandoned-children", 0x63_61_64_72_65_03);

    public static readonly SingletonLock Analytics = new("analytics", 0x63_61_64_72_65_04);

    public static IReadOnlyList<SingletonLock> All { get; } = [Housekeeping, Retention, AbandonedChildren, Analytics];
}

/// <summary>
/// This node's claim on a singleton duty (<see cref="StorageProvider.Claim"/>): tries to take the duty,
/// tells whether it still has it, and gives it up when disposed.
/// </summary>
internal abstract class SingletonClaim : IAsyncDisposable
{
    /// <summary>Takes the duty unless another node has it; true when this node has it (now or already).</summary>
    public abstract Task<bool> TryTakeAsync(CancellationToken cancellationToken);

    /// <summary>Whether the duty taken is still this node's; false once the database session that held it has ended.</summary>
    public abstract Task<bool> IsHeldAsync(CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();

    /// <summary>The claim on a database that is one node by design (SQLite): always held, nothing to give up.</summary>
    public static SingletonClaim Always { get; } = new AlwaysHeld();

    private sealed class AlwaysHeld : SingletonClaim
    {
        public override Task<bool> TryTakeAsync(CancellationToken cancellationToken) => Task.FromResult(true);

        public override Task<bool> IsHeldAsync(CancellationToken cancellationToken) => Task.FromResult(true);

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>
/// A periodic duty that one node does at a time however many nodes run it. Every node runs the
/// service; the one that takes the duty's lock (<see cref="StorageProvider.Claim"/>) does a pass at once and then every
/// <see cref="Interval"/>, checking every <see cref="TakeoverInterval"/> that it still holds it; the
/// others try to take it every <see cref="TakeoverInterval"/>. A holder that dies ends its database
/// session, which frees the lock, so another node takes the duty over within seconds. A pass is cut
/// short (through its token) when the node stops or loses the duty.
/// </summary>
internal abstract partial class SingletonService(StorageProvider storage, TimeProvider time, ILogger logger) : BackgroundService
{
    /// <summary>How often a node without the duty tries to take it, and the holder makes sure it still has it.</summary>
    public static readonly TimeSpan TakeoverInterval = TimeSpan.FromSeconds(2);

    protected abstract SingletonLock Lock { get; }

    protected TimeProvider Time => time;

    protected StorageProvider Storage => storage;

    protected ILogger Logger => logger;

    /// <summary>
    /// The clock passes keep time by: the injected one, so a test's clock moves them; a duty whose cadence is
    /// upkeep rather than a deadline may keep wall-clock time instead.
    /// </summary>
    protected virtual TimeProvider Cadence => time;

    /// <summary>The time between the holder's passes.</summary>
    protected abstract TimeSpan Interval { get; }

    /// <summary>Whether this node takes part at all (a node without workers leaves the engine's sweeps to others).</summary>
    protected virtual bool Enabled => true;

    /// <summary>One pass of the duty.</summary>
    protected abstract Task RunAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }

        // Made now, so passes fall due at the same times whenever this node takes the duty (and a test's clock moves them).
        using var timer = new PeriodicTimer(Interval, Cadence);
        await using var claim = storage.Claim(Lock);
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            var taken = false;
            try
            {
                taken = await claim.TryTakeAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The database is down or busy: the next try may succeed.
                LogTryFailed(logger, ex, Lock.Name);
            }

            if (taken)
            {
                await HoldAsync(claim, timer, stoppingToken);
            }
            else if (!await DelayAsync(TakeoverInterval, stoppingToken))
            {
                return;
            }
        }
    }

    private async Task HoldAsync(SingletonClaim claim, PeriodicTimer timer, CancellationToken stoppingToken)
    {
        LogTook(logger, Lock.Name);
        using var lost = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var watching = WatchAsync(claim, lost);
        try
        {
            do
            {
                try
                {
                    await RunAsync(lost.Token);
                }
                catch (Exception ex) when (!lost.IsCancellationRequested)
                {
                    // The next pass tries again; a duty that fails only waits.
                    LogPassFailed(logger, ex, Lock.Name);
                }
            }
            while (await timer.WaitForNextTickAsync(lost.Token));
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested)
        {
        }
        finally
        {
            await lost.CancelAsync();
            await watching;
        }

        if (!stoppingToken.IsCancellationRequested)
        {
            LogLost(logger, Lock.Name);
        }
    }

    /// <summary>Cancels <paramref name="lost"/> as soon as the hold is found gone (its connection broke).</summary>
    private async Task WatchAsync(SingletonClaim claim, CancellationTokenSource lost)
    {
        while (await DelayAsync(TakeoverInterval, lost.Token))
        {
            bool held;
            try
            {
                held = await claim.IsHeldAsync(lost.Token);
            }
            catch (OperationCanceledException) when (lost.IsCancellationRequested)
            {
                return;
            }

            if (!held)
            {
                await lost.CancelAsync();
                return;
            }
        }
    }

    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, Cadence, cancellationToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "This node does the {Duty} duty now")]
    private static partial void LogTook(ILogger logger, string duty);

    [LoggerMessage(Level = LogLevel.Warning, Message = "This node lost the {Duty} duty (its database session ended); another node takes it over")]
    private static partial void LogLost(ILogger logger, string duty);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not try for the {Duty} duty; trying again shortly")]
    private static partial void LogTryFailed(ILogger logger, Exception exception, string duty);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A pass of the {Duty} duty failed; the next one tries again")]
    private static partial void LogPassFailed(ILogger logger, Exception exception, string duty);
}
