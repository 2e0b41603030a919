namespace Cadre.Triggers;

/// <summary>Wakes this node's scheduler at once when this node changed a schedule (other nodes' changes are found by polling).</summary>
internal sealed class ScheduleSignal
{
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next <see cref="Changed"/>: taken before looking at the table, so a change while looking is not missed.</summary>
    public Task Next => Volatile.Read(ref _changed).Task;

    public void Changed() =>
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Waits for <paramref name="next"/> (from <see cref="Next"/>) or <paramref name="timeout"/>, whichever comes first.</summary>
    public static async Task WaitAsync(Task next, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(next);
        if (timeout <= TimeSpan.Zero || next.IsCompleted)
        {
            return;
        }

        try
        {
            await next.WaitAsync(timeout, time, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
    }
}
