using System.Diagnostics.Metrics;

namespace Cadre.Observability;

/// <summary>
/// Cadre's instruments, on one <see cref="Meter"/> named <c>Cadre</c> (instrument names follow the
/// OpenTelemetry conventions; the Prometheus exporter turns <c>cadre.runs.finished</c> into
/// <c>cadre_runs_finished_total</c>). Labels are small fixed sets (statuses, activities, outcomes,
/// models): never workspace, run or workflow IDs, which are unbounded and tenant data.
/// </summary>
/// <remarks>
/// One meter per container, marked as its <see cref="Meter.Scope"/>, so a process hosting several
/// Cadre apps (the tests) can tell each app's measurements apart.
/// </remarks>
internal sealed class CadreMetrics : IDisposable
{
    // Seconds, from an inline transform to a long agent turn.
    private static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900];

    // The GenAI semantic conventions' buckets for gen_ai.client.token.usage.
    private static readonly long[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

    private readonly Meter _meter;
    private readonly Counter<long> _runsStarted;
    private readonly Counter<long> _runsFinished;
    private readonly Histogram<double> _stepDuration;
    private readonly Counter<long> _leaseExpiries;
    private readonly Histogram<long> _tokenUsage;
    private readonly Counter<double> _modelCost;
    private readonly UpDownCounter<long> _sseSubscribers;
    private readonly Counter<long> _webhookDeliveries;
    private readonly object _queueLock = new();
    private (long Depth, double OldestAge)? _queue;

    public CadreMetrics()
    {
        _meter = new Meter(new MeterOptions(CadreTelemetry.Name) { Version = CadreTelemetry.Version, Scope = this });
        _runsStarted = _meter.CreateCounter<long>("cadre.runs.started", "{run}", "Runs created, by trigger (manual, event, webhook, schedule, rerun, child).");
        _runsFinished = _meter.CreateCounter<long>("cadre.runs.finished", "{run}", "Runs that ended, by status (succeeded, failed, compensated).");
        _stepDuration = _meter.CreateHistogram("cadre.step.duration", "s", "How long step attempts took, from start to their result's commit, by activity and outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _leaseExpiries = _meter.CreateCounter<long>("cadre.lease.expiries", "{task}", "Leased tasks returned to the queue because their worker stopped renewing the lease (it died, stalled or shut down mid-attempt).");
        _tokenUsage = _meter.CreateHistogram("gen_ai.client.token.usage", "{token}", "Tokens used per model call, by token type (input, output), provider and model.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = TokenBuckets });
        _modelCost = _meter.CreateCounter<double>("cadre.model.cost", "{USD}", "What model calls cost in US dollars, at the workspace's prices, by provider and model.");
        _sseSubscribers = _meter.CreateUpDownCounter<long>("cadre.sse.subscribers", "{subscriber}", "Event streams open on this node.");
        _webhookDeliveries = _meter.CreateCounter<long>("cadre.webhook.deliveries", "{attempt}", "Outbound webhook delivery attempts, by outcome (delivered, failed: retried later, dead: given up).");
        _meter.CreateObservableGauge("cadre.queue.depth", () => QueueMeasurement(q => q.Depth), "{task}", "Tasks queued and due now (not timers still in the future), as last sampled.");
        _meter.CreateObservableGauge("cadre.queue.oldest_age", () => QueueMeasurement(q => q.OldestAge), "s", "How long the oldest due task has waited, as last sampled (0 with none).");
    }

    public void RunStarted(string trigger) => _runsStarted.Add(1, new KeyValuePair<string, object?>("cadre.run.trigger", trigger));

    public void RunFinished(string status) => _runsFinished.Add(1, new KeyValuePair<string, object?>("cadre.run.status", status));

    public void StepAttempted(string activity, string outcome, TimeSpan duration) =>
        _stepDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>(CadreTelemetry.ActivityTag, activity), new KeyValuePair<string, object?>(CadreTelemetry.OutcomeTag, outcome));

    public void LeaseExpired(string kind) => _leaseExpiries.Add(1, new KeyValuePair<string, object?>("cadre.task.kind", kind));

    /// <summary>One model call's tokens and cost.</summary>
    public void ModelUsed(string provider, string model, long inputTokens, long outputTokens, long costNanos)
    {
        KeyValuePair<string, object?> operation = new("gen_ai.operation.name", "chat"), providerTag = new("gen_ai.provider.name", provider), modelTag = new("gen_ai.request.model", model);
        _tokenUsage.Record(inputTokens, operation, providerTag, modelTag, new("gen_ai.token.type", "input"));
        _tokenUsage.Record(outputTokens, operation, providerTag, modelTag, new("gen_ai.token.type", "output"));
        _modelCost.Add(costNanos / 1e9, providerTag, modelTag);
    }

    public void SseSubscribed() => _sseSubscribers.Add(1);

    public void SseUnsubscribed() => _sseSubscribers.Add(-1);

    public void WebhookDelivery(string outcome) => _webhookDeliveries.Add(1, new KeyValuePair<string, object?>(CadreTelemetry.OutcomeTag, outcome));

    /// <summary>The queue as <see cref="QueueSampler"/> last read it; the gauges report it without touching the database.</summary>
    public void QueueSampled(long depth, TimeSpan oldestAge)
    {
        lock (_queueLock)
        {
            _queue = (depth, Math.Max(0, oldestAge.TotalSeconds));
        }
    }

    private IEnumerable<Measurement<T>> QueueMeasurement<T>(Func<(long Depth, double OldestAge), T> value)
        where T : struct
    {
        lock (_queueLock)
        {
            return _queue is { } queue ? [new Measurement<T>(value(queue))] : [];
        }
    }

    public void Dispose() => _meter.Dispose();
}
