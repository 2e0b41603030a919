namespace Cadre.Common;

public static class TimeProviderExtensions
{
    /// <summary>
    /// The current UTC time truncated to microseconds: the precision PostgreSQL keeps, so a value
    /// read back from either database equals the one written.
    /// </summary>
    public static DateTime GetUtcNowTruncated(this TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        var ticks = time.GetUtcNow().UtcTicks;
        return new DateTime(ticks - (ticks % 10), DateTimeKind.Utc);
    }

    /// <summary>Normalises a caller-supplied instant to UTC microseconds.</summary>
    public static DateTime ToStorageTime(this DateTimeOffset value)
    {
        var ticks = value.UtcTicks;
        return new DateTime(ticks - (ticks % 10), DateTimeKind.Utc);
    }
}
