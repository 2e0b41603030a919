using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cadre.Observability;

/// <summary>
/// Reads the task queue's depth and oldest due task every <see cref="TelemetryOptions.QueueSampleInterval"/>
/// for the <c>cadre.queue.*</c> gauges: a scrape reads the last sample and never queries the database
/// itself, so scrapers cannot load it. The queue is shared, so every node reports the same values.
/// </summary>
internal sealed partial class QueueSampler(
    IServiceScopeFactory scopes, CadreMetrics metrics, TimeProvider time, IOptions<TelemetryOptions> options, ILogger<QueueSampler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        using var timer = new PeriodicTimer(options.Value.QueueSampleInterval, time);
        do
        {
            try
            {
                await SampleAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && ex is not OutOfMemoryException)
            {
                // The database is away: the gauges keep their last values until it is back.
                LogSampleFailed(logger, ex);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    internal async Task SampleAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
        var now = time.GetUtcNowTruncated();
        // Both read the partial index of queued tasks by due time, as the lease does.
        var due = db.Tasks.AsNoTracking().Where(t => t.Status == "queued" && t.AvailableAt <= now);
        var depth = await due.LongCountAsync(cancellationToken);
        var oldest = depth == 0 ? null : await due.MinAsync(t => (DateTime?)t.AvailableAt, cancellationToken);
        metrics.QueueSampled(depth, oldest is { } at ? now - at : TimeSpan.Zero);
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not sample the task queue for the queue gauges")]
    private static partial void LogSampleFailed(ILogger logger, Exception exception);
}
