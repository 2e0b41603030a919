using Cadre.Auth;
using Cadre.Files;
using Cadre.Idempotency;
using Cadre.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cadre.Storage;

/// <summary>
/// Every ten minutes, deletes what has outlived its use: idempotency records past retention, ended
/// sessions, uploaded files nobody used in time (and pending uploads whose URL lapsed), the rows of
/// nodes stopped or dead for over a day. A singleton
/// duty: one node at a time does it (each purge is safe to repeat, so this only spares the others the work).
/// </summary>
internal sealed partial class HousekeepingService(
    IdempotencyStore idempotency, SessionService sessions, IServiceScopeFactory scopes, StorageProvider storage, TimeProvider time, ILogger<HousekeepingService> logger)
    : SingletonService(storage, time, logger)
{
    internal static readonly TimeSpan PassInterval = TimeSpan.FromMinutes(10);

    protected override SingletonLock Lock => SingletonLock.Housekeeping;

    protected override TimeSpan Interval => PassInterval;

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        var records = await idempotency.PurgeExpiredAsync(cancellationToken);
        var ended = await sessions.PurgeAsync(cancellationToken);
        await using var scope = scopes.CreateAsyncScope();
        var files = await scope.ServiceProvider.GetRequiredService<FileService>().PurgeExpiredAsync(cancellationToken);
        var nodes = await scope.ServiceProvider.GetRequiredService<NodeService>().PruneAsync(cancellationToken);
        LogPurged(Logger, records, ended, files, nodes);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Housekeeping deleted {Records} idempotency records, {Sessions} sessions, {Files} files and {Nodes} nodes")]
    private static partial void LogPurged(ILogger logger, int records, int sessions, int files, int nodes);
}
