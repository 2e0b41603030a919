using Cadre.Auth;
using Cadre.Files;
using Cadre.Idempotency;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cadre.Storage;

/// <summary>
/// Every ten minutes, deletes what has outlived its use: idempotency records past retention, ended
/// sessions, uploaded files nobody used in time (and pending uploads whose URL lapsed).
/// </summary>
internal sealed class HousekeepingService(
    IdempotencyStore idempotency, SessionService sessions, IServiceScopeFactory scopes, TimeProvider time, ILogger<HousekeepingService> logger)
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
                await using var scope = scopes.CreateAsyncScope();
                var files = await scope.ServiceProvider.GetRequiredService<FileService>().PurgeExpiredAsync(stoppingToken);
                logger.LogDebug("Housekeeping deleted {Records} idempotency records, {Sessions} sessions and {Files} files", records, ended, files);
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
