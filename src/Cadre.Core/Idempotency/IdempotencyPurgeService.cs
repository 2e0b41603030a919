using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cadre.Idempotency;

/// <summary>Deletes idempotency records past their retention, every ten minutes.</summary>
internal sealed class IdempotencyPurgeService(IdempotencyStore store, TimeProvider time, ILogger<IdempotencyPurgeService> logger)
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
                var purged = await store.PurgeExpiredAsync(stoppingToken);
                if (purged > 0)
                {
                    logger.LogDebug("Purged {Count} expired idempotency records", purged);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The next tick tries again; a purge that fails only delays the clean-up.
                logger.LogWarning(ex, "Purging expired idempotency records failed");
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
