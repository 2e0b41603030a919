using Cadre.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cadre.Runs;

/// <summary>
/// Ends children their parents abandoned when a crash came between the parent's final commit and
/// its follow-up (<see cref="RunEngine.CancelAbandonedChildrenAsync"/>). A scan over child runs, so
/// not at every poll: when a node takes the duty (at start-up, after a crash) and every five minutes,
/// on one node at a time among those that run workers.
/// </summary>
internal sealed class AbandonedChildrenSweep(
    IServiceScopeFactory scopes, IOptions<EngineOptions> options, StorageProvider storage, TimeProvider time, ILogger<AbandonedChildrenSweep> logger)
    : SingletonService(storage, time, logger)
{
    protected override SingletonLock Lock => SingletonLock.AbandonedChildren;

    protected override TimeSpan Interval => TimeSpan.FromMinutes(5);

    protected override bool Enabled => options.Value.Enabled;

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<RunEngine>().CancelAbandonedChildrenAsync(null, cancellationToken);
    }
}
