using Cadre.Auth;
using Cadre.Idempotency;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cadre.Storage;

/// <summary>Every ten minutes, deletes what has outlived its use: idempotency records past retention, ended sessions.</summary>
internal sealed class HousekeepingService(IdempotencyStore idempotency, SessionService sessions, TimeProvider time, ILogger<HousekeepingService> logger)
    : BackgroundService
{
    internal static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await WaitAsync(timer, stoppingToken))
        {
            try
            {
                var records = await idempotency.PurgeExpiredAsync(stoppingToken);
                var ended = await sessions.PurgeAsync(stoppingToken);
                logger.LogDebug("Housekeeping deleted {Records} idempotency records and {Sessions} sessions", records, ended);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The next tick tries again; a clean-up that fails only delays it.
                logger.LogWarning(ex, "Housekeeping failed");
            }
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
